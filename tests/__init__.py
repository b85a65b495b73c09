"""The tests of HealBridge Ops: lib tests named after the module they test, page tests in tests/pages/, browser tests in tests/e2e/."""
