//! Placeholder: filled in with the page.
