//! Trunk registration (placeholder, filled below).
