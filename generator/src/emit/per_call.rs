//! The per-call options a request builder gets from the runtime's `per_call_options!`
//! (`gouvgen_runtime::per_call_options`, one definition for every generated crate): the
//! four every builder has come with its `IntoFuture`; the others are asked for by name.

use quote::format_ident;

use crate::surface::RuntimeOption;

/// The per-call options beyond the four every builder has, as `per_call_options!` names them.
pub(super) fn extra_option(o: RuntimeOption) -> Option<proc_macro2::Ident> {
    match o {
        RuntimeOption::FranceConnectToken | RuntimeOption::TraceabilityObject => {
            Some(format_ident!("{}", o.method()))
        }
        RuntimeOption::CorrelationId
        | RuntimeOption::Timeout
        | RuntimeOption::RetryPolicy
        | RuntimeOption::Header => None,
    }
}
