//! Python bindings for shipwarden (issue #6).
