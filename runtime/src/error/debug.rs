//! `Debug` of [`Error`]: field by field, like a derive would, but written out so that a
//! transport error shows what may have reached the server and no variant can print more than
//! its fields (none holds a secret).

use std::fmt;

use super::Error;

impl<E: fmt::Debug> fmt::Debug for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } | Error::ResponseTooLarge { .. } => {
                self.debug_transport(f)
            }
            Error::TokenRefused(t) => f.debug_tuple("TokenRefused").field(t).finish(),
            Error::RateLimited(g) => f.debug_tuple("RateLimited").field(g).finish(),
            Error::Gateway(g) => f.debug_tuple("Gateway").field(g).finish(),
            Error::Documented { body, error } => f
                .debug_struct("Documented")
                .field("body", body)
                .field("error", error)
                .finish(),
            Error::UndecodableBody(d) => f.debug_tuple("UndecodableBody").field(d).finish(),
            Error::NotRecorded(n) => f.debug_tuple("NotRecorded").field(n).finish(),
            Error::CredentialExpired {
                message,
                correlation_id,
            } => f
                .debug_struct("CredentialExpired")
                .field("message", message)
                .field("correlation_id", correlation_id)
                .finish(),
            Error::InvalidRequest {
                message,
                operation_id,
                correlation_id,
            } => f
                .debug_struct("InvalidRequest")
                .field("message", message)
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .finish(),
            Error::InvalidConfig { message } => f
                .debug_struct("InvalidConfig")
                .field("message", message)
                .finish(),
            Error::Unavailable {
                operation_id,
                correlation_id,
                host,
                retry_in,
            } => f
                .debug_struct("Unavailable")
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .field("host", host)
                .field("retry_in", retry_in)
                .finish(),
            Error::AuditFailing {
                operation_id,
                correlation_id,
                dropped,
                last_error,
            } => f
                .debug_struct("AuditFailing")
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .field("dropped", dropped)
                .field("last_error", last_error)
                .finish(),
            Error::SharedStoreDown {
                operation_id,
                correlation_id,
            } => f
                .debug_struct("SharedStoreDown")
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .finish(),
        }
    }
}
