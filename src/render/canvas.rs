//! Canvas drawing of a View (browser only); filled in with the page.
