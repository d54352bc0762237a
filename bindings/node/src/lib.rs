//! Node bindings for shipwarden (issue #7).
