"""The PHI masking functions (lib.phi): emails, phones, names, dates, finding keys, free text, frames by role."""

from __future__ import annotations

import pandas as pd

from lib import phi


def test_masking_functions() -> None:
    assert phi.mask_email("jane.doe@example.com") == "j•••@example.com"
    assert phi.mask_phone("+14158672345") == "•••• 2345"
    assert phi.mask_name("Jane  Doe") == "J••• D•••"
    assert phi.mask_dob("1980-04-12") == "••••-••-••"
    key = "uidA|email|firebase_auth=jane@example.com|core=JANE@example.org"
    assert phi.mask_key(key) == "uidA|email|firebase_auth=j•••@example.com|core=J•••@example.org"
    assert phi.mask_key("uidA|phone|core=+14158672345|supabase=(415) 867-2399") == \
        "uidA|phone|core=•••• 2345|supabase=•••• 2399"
    assert phi.mask_text("sync failed for jane@example.com at +14158672345") == \
        "sync failed for j•••@example.com at •••• 2345"
    assert phi.mask_key("3f0c9a3e-1b2c-4d5e-8f90-123456789012") == "3f0c9a3e-1b2c-4d5e-8f90-123456789012"
    df = pd.DataFrame({"email": ["a@b.example"], "full_name": ["Ann Lee"], "note": ["call +14155550123"], "n": [1]})
    out = phi.for_role(df, "support")
    assert out.iloc[0].tolist() == ["a•••@b.example", "A••• L•••", "call •••• 0123", 1]
    assert phi.for_role(df, "oncall") is df and phi.for_role(df, "support", uid="u", unmasked="u") is df
