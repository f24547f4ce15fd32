//! `per_call_options!`: the per-call option methods and the `IntoFuture` of a generated
//! request builder, defined once here instead of once in every generated crate (about 70
//! lines each).
//!
//! The builder it is invoked on must have the fields `client` (whose `runtime` is an
//! [`ApiClient`](crate::ApiClient)) and `options: Option<CallOptions>`, and an
//! `async fn send(self)`; it gets the private method `change_options`, a name the generator
//! keeps for it. Every path is absolute, so a generated type named like a prelude
//! item cannot capture one.

/// The per-call options of a generated request builder (`correlation_id`, `timeout`,
/// `retry_policy`, `header`) and its `IntoFuture`:
/// `per_call_options!(Builder, SuccessType, ErrorType)`. The options only some operations
/// take are apart: `per_call_options!(france_connect_token Builder)` and
/// `per_call_options!(traceability_object Builder)`. For generated code; not a stable API
/// for hand-written builders.
#[macro_export]
macro_rules! per_call_options {
    ($builder:ident, $success:ty, $error:ty) => {
        impl<'a> $builder<'a> {
            /// Sends this correlation ID instead of a fresh UUID.
            pub fn correlation_id(
                self,
                id: impl ::core::convert::Into<::std::string::String>,
            ) -> Self {
                self.change_options(|options| options.correlation_id(id))
            }

            /// Overrides the client's request timeout for this call.
            pub fn timeout(self, timeout: ::core::time::Duration) -> Self {
                self.change_options(|options| options.timeout(timeout))
            }

            /// Overrides the client's retry policy for this call.
            pub fn retry_policy(self, policy: $crate::RetryPolicy) -> Self {
                self.change_options(|options| options.retry_policy(policy))
            }

            /// Adds a header to this call.
            pub fn header(
                self,
                name: impl ::core::convert::Into<::std::string::String>,
                value: impl ::core::convert::Into<::std::string::String>,
            ) -> Self {
                self.change_options(|options| options.header(name, value))
            }

            /// Changes the per-call options, starting from the client's.
            fn change_options(
                mut self,
                change: impl ::core::ops::FnOnce($crate::CallOptions) -> $crate::CallOptions,
            ) -> Self {
                let options = self.options.take();
                let options = options.unwrap_or_else(|| self.client.runtime.options().clone());
                self.options = ::core::option::Option::Some(change(options));
                self
            }
        }

        impl<'a> ::core::future::IntoFuture for $builder<'a> {
            type Output = ::core::result::Result<$crate::Response<$success>, $crate::Error<$error>>;
            type IntoFuture = ::core::pin::Pin<
                ::std::boxed::Box<
                    dyn ::core::future::Future<Output = Self::Output> + ::core::marker::Send + 'a,
                >,
            >;
            // Inline: compiled where a caller awaits the builder, not in the generated crate.
            // Boxing `send` there would compile every operation into the library.
            #[inline]
            fn into_future(self) -> Self::IntoFuture {
                ::std::boxed::Box::pin(self.send())
            }
        }
    };
    (france_connect_token $builder:ident) => {
        impl $builder<'_> {
            /// The user's FranceConnect access token, for this call only (DGFiP: in
            /// `X-FranceConnect-OAuth`; API Particulier: as the call's bearer, instead of the
            /// client's credential).
            pub fn france_connect_token(
                self,
                token: impl ::core::convert::Into<$crate::Secret>,
            ) -> Self {
                self.change_options(|options| options.france_connect_token(token))
            }
        }
    };
    (traceability_object $builder:ident) => {
        impl $builder<'_> {
            /// The traceability `object` of this call (its reason or file reference), instead
            /// of the client's.
            pub fn traceability_object(
                self,
                object: impl ::core::convert::Into<::std::string::String>,
            ) -> Self {
                self.change_options(|options| options.traceability_object(object))
            }
        }
    };
}
