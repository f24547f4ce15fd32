//! The `per_call_options!` macro of a generated client: the per-call option methods and the
//! `IntoFuture` of every request builder, written once per crate.

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

/// The line `client_file` prints where [`PER_CALL_MACRO`] goes (see [`insert_per_call_macro`]).
pub(super) const PER_CALL_MARKER: &str = "const PER_CALL_OPTIONS_MACRO: () = ();";

/// `per_call_options!`, written once per crate: the per-call option methods of a request
/// builder and its `IntoFuture`, the same for every operation, so each builder costs a line
/// for them instead of forty. Written as text: token printers put a macro's body on long
/// lines that `rustfmt` leaves as they are.
const PER_CALL_MACRO: &str = r#"/// The per-call options of a request builder (`correlation_id`, `timeout`, `retry_policy`,
/// `header`) and its `IntoFuture`; `france_connect_token` and `traceability_object` apart, for
/// the operations that take them. One definition for every request builder of the crate.
macro_rules! per_call_options {
    ($builder:ident, $success:ty, $error:ty) => {
        impl<'a> $builder<'a> {
            /// Sends this correlation ID instead of a fresh UUID.
            pub fn correlation_id(self, id: impl Into<String>) -> Self {
                self.change_options(|options| options.correlation_id(id))
            }

            /// Overrides the client's request timeout for this call.
            pub fn timeout(self, timeout: std::time::Duration) -> Self {
                self.change_options(|options| options.timeout(timeout))
            }

            /// Overrides the client's retry policy for this call.
            pub fn retry_policy(self, policy: rt::RetryPolicy) -> Self {
                self.change_options(|options| options.retry_policy(policy))
            }

            /// Adds a header to this call.
            pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.change_options(|options| options.header(name, value))
            }

            /// Changes the per-call options, starting from the client's.
            fn change_options(
                mut self,
                change: impl FnOnce(rt::CallOptions) -> rt::CallOptions,
            ) -> Self {
                let options = self.options.take();
                let options = options.unwrap_or_else(|| self.client.runtime.options().clone());
                self.options = Some(change(options));
                self
            }
        }

        impl<'a> std::future::IntoFuture for $builder<'a> {
            type Output = Result<rt::Response<$success>, rt::Error<$error>>;
            type IntoFuture = Sending<'a, Self::Output>;
            // Inline: compiled where a caller awaits the builder, not in this crate. Boxing
            // `send` here would compile every operation into the library.
            #[inline]
            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
    (france_connect_token $builder:ident) => {
        impl $builder<'_> {
            /// The user's FranceConnect access token, for this call only (DGFiP: in
            /// `X-FranceConnect-OAuth`; API Particulier: as the call's bearer, instead of the
            /// client's credential).
            pub fn france_connect_token(self, token: impl Into<rt::Secret>) -> Self {
                self.change_options(|options| options.france_connect_token(token))
            }
        }
    };
    (traceability_object $builder:ident) => {
        impl $builder<'_> {
            /// The traceability `object` of this call (its reason or file reference), instead
            /// of the client's.
            pub fn traceability_object(self, object: impl Into<String>) -> Self {
                self.change_options(|options| options.traceability_object(object))
            }
        }
    };
}"#;

/// Replaces the marker line of a printed client module with [`PER_CALL_MACRO`] (indented like
/// the marker: the module of a build script's output is nested). With features per tag a
/// crate built without any of them uses no builder, hence the `allow`.
pub(super) fn insert_per_call_macro(printed: String, features: bool) -> String {
    let Some(at) = printed.find(PER_CALL_MARKER) else {
        return printed;
    };
    let line_start = printed[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = &printed[line_start..at];
    let mut text = String::new();
    if features {
        text.push_str("#[allow(unused_macros)]\n");
    }
    text.push_str(PER_CALL_MACRO);
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        })
        .collect();
    let end = at + PER_CALL_MARKER.len();
    format!(
        "{}{}{}",
        &printed[..line_start],
        text.join("\n"),
        &printed[end..]
    )
}
