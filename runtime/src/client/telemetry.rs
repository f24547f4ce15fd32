//! The telemetry hooks the call pipeline calls (`call.rs`, `attempt.rs`). With the `otel`
//! feature they are [`super::otel`]'s OpenTelemetry spans and metrics; without it, the
//! do-nothing types below, with the same methods, so the pipeline has no `cfg` of its own.

#[cfg(feature = "otel")]
pub use super::otel::Telemetry;
#[cfg(feature = "otel")]
pub(crate) use super::otel::{CallTelemetry, ClientTelemetry, TelemetrySettings};

#[cfg(not(feature = "otel"))]
pub(crate) use noop::{CallTelemetry, ClientTelemetry, TelemetrySettings};

#[cfg(not(feature = "otel"))]
mod noop {
    use std::marker::PhantomData;
    use std::sync::Arc;
    use std::time::Duration;

    use http::{HeaderMap, HeaderName};

    use crate::core::time::Clock;
    use crate::error::Error;
    use crate::fleet::AccountId;
    use crate::wire::request::Request;
    use crate::wire::response::RawResponse;

    use crate::client::credentials::Creds;
    use crate::client::hooks::CallHooks;

    /// Builder side: nothing to configure.
    #[derive(Debug, Default)]
    pub(crate) struct TelemetrySettings;

    impl TelemetrySettings {
        pub(crate) fn finish(self, _api_root: &str, _account: &AccountId) -> ClientTelemetry {
            ClientTelemetry
        }
    }

    /// Client side: nothing to record to.
    #[derive(Debug)]
    pub(crate) struct ClientTelemetry;

    impl ClientTelemetry {
        #[inline(always)]
        pub(crate) fn call<'a>(
            &'a self,
            _req: &Request,
            _correlation_id: &str,
            _hooks: &'a CallHooks<'a>,
            _env: (impl FnOnce() -> Arc<Creds>, &'a dyn Clock, &'a HeaderName),
        ) -> CallTelemetry<'a> {
            CallTelemetry(PhantomData)
        }
    }

    /// One call: records nothing.
    pub(crate) struct CallTelemetry<'a>(PhantomData<&'a ()>);

    impl CallTelemetry<'_> {
        #[inline(always)]
        pub(crate) fn attempt(&self, _attempt: u32) -> AttemptTelemetry<'_> {
            AttemptTelemetry(PhantomData)
        }
        #[inline(always)]
        pub(crate) fn paused(&self, _reason: &'static str, _pause: Duration) {}
        #[inline(always)]
        pub(crate) fn retrying(&self, _wait: Duration) {}
        #[inline(always)]
        pub(crate) fn token_rejected(&self) {}
        #[inline(always)]
        pub(crate) fn finish(self, _result: &Result<RawResponse, Error>) {}
    }

    /// One attempt: records nothing.
    pub(crate) struct AttemptTelemetry<'c>(PhantomData<&'c ()>);

    impl AttemptTelemetry<'_> {
        #[inline(always)]
        pub(crate) fn admitted(&mut self) {}
        #[inline(always)]
        pub(crate) fn slot_acquired(&mut self) {}
        #[inline(always)]
        pub(crate) fn authorized(&mut self) {}
        #[inline(always)]
        pub(crate) fn inject(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
            rb
        }
        #[inline(always)]
        pub(crate) fn answered(
            &mut self,
            _result: Result<(u16, &HeaderMap, &[u8]), &reqwest::Error>,
        ) {
        }
    }
}
