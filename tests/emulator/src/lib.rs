//! Gateway emulator (under construction).
