"""The browser tests' fixtures live in tests/browser/fixtures.py, loaded once for the whole run
by the root conftest, so every browser test of every app shares one Playwright and one Chromium."""
