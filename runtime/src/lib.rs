//! gouvgen runtime (under construction).
