//! gouvgen
