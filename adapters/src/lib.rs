//! Real adapters for shipwarden ports (filled by issues #3, #4 and #8).
