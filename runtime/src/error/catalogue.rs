//! Static table of DGFiP API Management gateway error codes (partner guide §6.2) with the
//! meaning and what the caller should do, so errors can say more than "HTTP 401".

/// One known gateway error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// Gateway error code (`erreur.code`).
    pub code: u32,
    /// HTTP status the gateway uses with it.
    pub status: u16,
    /// The gateway's message.
    pub message: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// What to do about it.
    pub advice: &'static str,
}

const fn e(
    status: u16,
    code: u32,
    message: &'static str,
    meaning: &'static str,
    advice: &'static str,
) -> CatalogueEntry {
    CatalogueEntry {
        code,
        status,
        message,
        meaning,
        advice,
    }
}

const THROTTLED: &str = "slow down: wait for Retry-After (if given) before calling again, \
     lower the client's rate limit, or ask the DGFiP for a larger quota on the store";

/// The DGFiP API Management error codes (gateway errors, not API-specific ones).
pub static DGFIP_GATEWAY_ERRORS: &[CatalogueEntry] = &[
    e(
        400,
        102511,
        "Incomplete payload",
        "the request body is incomplete",
        "check the request body against the API's specification",
    ),
    e(
        401,
        900901,
        "Invalid credentials",
        "the access token is invalid",
        "the token was refreshed and the call retried once; if it persists, check the consumer key/secret and the token URL of the access point",
    ),
    e(
        401,
        900902,
        "Missing credentials",
        "the Authorization header is missing",
        "configure credentials on the ApiClient (client_credentials) and do not mark the operation no_auth",
    ),
    e(
        401,
        900905,
        "Incorrect access token type is provided",
        "only Bearer tokens are accepted",
        "use a client_credentials token from the DGFiP token endpoint",
    ),
    e(
        401,
        900906,
        "Invalid token / no matching resource",
        "the token is no longer valid (partner guide §5.5), or (403) no resource matches the request",
        "for 401: the token was refreshed and the call retried once; for 403: check the API root, base path and resource path",
    ),
    e(
        401,
        900907,
        "The requested API is temporarily blocked",
        "the partner is temporarily blocked for this API",
        "contact DGFiP API Management support with the X-Correlation-ID",
    ),
    e(
        401,
        900909,
        "The subscription to the API is inactive",
        "the subscription has not been approved by the DGFiP",
        "check the subscription status of your application on the DGFiP store",
    ),
    e(
        403,
        900908,
        "Resource forbidden",
        "the partner has no access to this resource",
        "subscribe to this API/resource on the DGFiP store",
    ),
    e(
        403,
        900910,
        "The access token does not allow you to access the requested resource",
        "the token's scopes do not cover this resource",
        "request the scope of this resource (e.g. RessourceIR) in .scopes([...]) and check it is granted to your application",
    ),
    e(
        404,
        404,
        "Not Found",
        "the API does not exist",
        "check the API root (access point) and the API's base path and version",
    ),
    e(
        429,
        900800,
        "Message throttled out",
        "the usage limit allocated to the partner is reached",
        THROTTLED,
    ),
    e(
        429,
        900802,
        "Resource level throttle out",
        "the partner's limit for this resource is reached",
        THROTTLED,
    ),
    e(
        429,
        900803,
        "Application level throttle out",
        "the application's limit is reached",
        THROTTLED,
    ),
    e(
        429,
        900804,
        "Subscription level throttled out",
        "the subscription's limit is reached",
        THROTTLED,
    ),
    e(
        429,
        900805,
        "Message blocked",
        "the partner is blocked",
        "contact DGFiP API Management support with the X-Correlation-ID",
    ),
    e(
        429,
        900806,
        "Custom policy throttled out",
        "a specific policy limits calls to this API",
        THROTTLED,
    ),
    e(
        429,
        900807,
        "Message throttled out",
        "the usage limit allocated to the partner is reached",
        THROTTLED,
    ),
    e(
        500,
        900900,
        "Unclassified authentication failure",
        "authentication failed (in FranceConnect mode: the user's identification)",
        "check the credentials and, in FranceConnect mode, the FranceConnect access token passed in CallOptions",
    ),
    e(
        503,
        900801,
        "Hard limit exceeded",
        "the API's global quota is reached",
        "retry later (honour Retry-After); the API is overloaded for all partners",
    ),
    e(
        503,
        700700,
        "API blocked",
        "the API is temporarily blocked by the DGFiP",
        "retry later; check DGFiP announcements",
    ),
];

/// The FranceConnect user-authentication range (900950–900979).
pub static DGFIP_FRANCECONNECT: CatalogueEntry = e(
    401,
    900950,
    "FranceConnect authentication error",
    "the FranceConnect user authentication failed",
    "check the FranceConnect access token passed with CallOptions::france_connect_token (it may be expired or lack the required scopes)",
);

/// Looks up a DGFiP gateway code.
pub fn dgfip_lookup(code: u32) -> Option<&'static CatalogueEntry> {
    if (900950..=900979).contains(&code) {
        return Some(&DGFIP_FRANCECONNECT);
    }
    DGFIP_GATEWAY_ERRORS.iter().find(|e| e.code == code)
}

/// Advice for RFC 6750 / RFC 6749 error codes seen on API calls.
pub fn oauth_call_advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_token" => {
            "the access token is invalid or expired; the runtime refreshed it and retried once — if this persists check the token URL and the clock"
        }
        "insufficient_scope" => {
            "the token lacks a scope required by this operation: add it with .scopes([...])"
        }
        "invalid_request" => "the request is malformed (missing or duplicated parameter)",
        _ => return None,
    })
}

/// Generic advice by HTTP status.
pub fn status_advice(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => {
            "the gateway rejected the request as malformed: check parameters against the API specification"
        }
        401 => "not authenticated: check credentials (token, API key, JWT)",
        403 => "authenticated but not allowed: check the scopes/subscription of your application",
        404 => "not found: check the API root, base path and identifiers",
        408 => "the gateway timed out waiting for the request",
        429 => {
            "rate limited: wait for Retry-After before calling again (API Entreprise/Particulier ban IPs for 12 h when 429 is ignored)"
        }
        500 => "server error at the gateway or API; retry later if the operation is idempotent",
        502 | 504 => "the gateway could not reach the API in time; retry later (degraded mode)",
        503 => "service unavailable; retry later, honouring Retry-After",
        _ => return None,
    })
}
