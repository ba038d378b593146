//! Who is calling: an API key names its tenant and role; a JSON Web Token signed with a
//! tenant's HS256 secret or RS256 key names its tenant, its user (`sub`) and role. With no key
//! and no token configured at all (the demo), the server is open — every caller is an admin of
//! the tenant it names in `X-Kefu-Tenant` (default `default`) — and it should only listen on
//! loopback.

use crate::config::Role;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kefu::ErrorCode;
use std::sync::Arc;

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The tenant whose data the caller may touch.
    pub tenant: String,
    /// What it may do there.
    pub role: Role,
    /// The end user a token was issued to (`sub`); such a caller only sees its own
    /// conversations and speaks as that user.
    pub user: Option<String>,
}

impl Caller {
    /// Fails with `forbidden` unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden, format!("this endpoint needs the {role:?} role").to_lowercase()))
        }
    }
}

/// A tenant's token verifier.
struct JwtVerifier {
    tenant: String,
    keys: Vec<(jsonwebtoken::DecodingKey, jsonwebtoken::Validation)>,
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    tenant: Option<String>,
}

/// API keys and token verifiers, resolved at start.
#[derive(Default)]
pub struct Keys {
    keys: Vec<(String, Caller)>,
    jwt: Vec<JwtVerifier>,
    /// Token secrets and public keys seen, by tenant: two tenants must not share one, or a
    /// token without a `tenant` claim would open both.
    token_keys: Vec<(String, String)>,
}

impl Keys {
    /// Adds a key.
    pub fn add(&mut self, key: String, caller: Caller) {
        self.keys.push((key, caller));
    }

    /// Adds a tenant's token keys.
    pub fn add_jwt(
        &mut self,
        tenant: &str,
        config: &crate::config::JwtConfig,
    ) -> Result<(), crate::config::ConfigError> {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation};
        let bad = |message: String| crate::config::ConfigError::Secret { tenant: tenant.to_string(), message };
        let validation = |alg| {
            let mut v = Validation::new(alg);
            v.set_required_spec_claims(&["exp", "sub"]);
            if let Some(iss) = &config.issuer {
                v.set_issuer(&[iss]);
                v.required_spec_claims.insert("iss".into());
            }
            match &config.audience {
                Some(aud) => {
                    v.set_audience(&[aud]);
                    v.required_spec_claims.insert("aud".into());
                }
                None => v.validate_aud = false,
            }
            v
        };
        let mut keys = Vec::new();
        let mut distinct = |material: &str| {
            if let Some((other, _)) = self.token_keys.iter().find(|(t, m)| t != tenant && m == material) {
                return Err(bad(format!("shares a token key with tenant `{other}`: give each tenant its own")));
            }
            self.token_keys.push((tenant.to_string(), material.to_string()));
            Ok(())
        };
        if let Some(secret) = &config.hs256_secret {
            let secret = secret.resolve(tenant, 32)?;
            distinct(&secret)?;
            let key = DecodingKey::from_secret(secret.as_bytes()).map_err(|e| bad(format!("HS256 secret: {e}")))?;
            keys.push((key, validation(Algorithm::HS256)));
        }
        if let Some(pem) = &config.rs256_public_key {
            let pem = pem.resolve(tenant, 1)?;
            distinct(pem.trim())?;
            let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| bad(format!("RS256 public key: {e}")))?;
            keys.push((key, validation(Algorithm::RS256)));
        }
        if keys.is_empty() {
            return Err(bad("`jwt` needs `hs256_secret` or `rs256_public_key`".into()));
        }
        self.jwt.push(JwtVerifier { tenant: tenant.to_string(), keys });
        Ok(())
    }

    /// Whether any key or token verifier is configured (else the server is open).
    pub fn enabled(&self) -> bool {
        !self.keys.is_empty() || !self.jwt.is_empty()
    }

    /// The caller a valid token names (trying the named tenant's verifier, or each tenant's).
    fn verify_token(&self, token: &str, named_tenant: Option<&str>) -> Option<Caller> {
        for verifier in self.jwt.iter().filter(|v| named_tenant.is_none_or(|t| t == v.tenant)) {
            for (key, validation) in &verifier.keys {
                let Ok(data) = jsonwebtoken::decode::<Claims>(token, key, validation) else { continue };
                let claims = data.claims;
                if claims.tenant.as_deref().is_some_and(|t| t != verifier.tenant) {
                    continue;
                }
                return Some(Caller {
                    tenant: verifier.tenant.clone(),
                    role: claims.role.unwrap_or(Role::Client),
                    user: Some(claims.sub),
                });
            }
        }
        None
    }

    /// The caller owning `presented`, comparing every key in constant time.
    fn lookup(&self, presented: &str) -> Option<Caller> {
        let mut found = None;
        for (key, caller) in &self.keys {
            if constant_time_eq(key.as_bytes(), presented.as_bytes()) {
                found = Some(caller.clone());
            }
        }
        found
    }

    /// Authenticates a request from its key and the tenant it names (header or query).
    pub fn authenticate(&self, key: Option<&str>, named_tenant: Option<&str>) -> Result<Caller, ApiError> {
        if !self.enabled() {
            let tenant = named_tenant.unwrap_or("default").to_string();
            return Ok(Caller { tenant, role: Role::Admin, user: None });
        }
        let key = key.ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "send an API key as `Authorization: Bearer <key>` or `X-Api-Key`")
        })?;
        let caller = match self.lookup(key) {
            Some(c) => c,
            None if key.matches('.').count() == 2 => self
                .verify_token(key, named_tenant)
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "invalid, expired or unknown token"))?,
            None => return Err(ApiError::new(ErrorCode::Unauthorized, "unknown API key")),
        };
        if let Some(t) = named_tenant {
            if t != caller.tenant {
                return Err(ApiError::new(ErrorCode::Forbidden, "this key does not belong to that tenant"));
            }
        }
        Ok(caller)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The key or token of a request: `Authorization: Bearer`, `X-Api-Key`, or (for WebSocket and
/// EventSource, which cannot set headers in browsers) the `api_key` or `access_token` query
/// parameter.
pub fn presented_key(parts: &Parts) -> Option<String> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(bearer) = header("authorization").and_then(|v| v.strip_prefix("Bearer ")) {
        return Some(bearer.trim().to_string());
    }
    if let Some(k) = header("x-api-key") {
        return Some(k.to_string());
    }
    query_param(parts, "api_key").or_else(|| query_param(parts, "access_token"))
}

fn named_tenant(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-kefu-tenant")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query_param(parts, "tenant"))
}

fn query_param(parts: &Parts, name: &str) -> Option<String> {
    let query = parts.uri.query()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` escapes and `+`; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        state.keys.authenticate(presented_key(parts).as_deref(), named_tenant(parts).as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_tenant_and_nothing_else() {
        let mut keys = Keys::default();
        keys.add("a-key-0123456789abcdef".into(), Caller { tenant: "a".into(), role: Role::Client, user: None });
        keys.add("b-key-0123456789abcdef".into(), Caller { tenant: "b".into(), role: Role::Admin, user: None });
        assert_eq!(
            keys.authenticate(Some("a-key-0123456789abcdef"), None).map(|c| c.tenant).ok().as_deref(),
            Some("a")
        );
        assert_eq!(
            keys.authenticate(Some("a-key-0123456789abcdef"), Some("b")).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(keys.authenticate(Some("nope"), None).unwrap_err().code, ErrorCode::Unauthorized);
        assert_eq!(keys.authenticate(None, None).unwrap_err().code, ErrorCode::Unauthorized);
        let open = Keys::default();
        assert_eq!(open.authenticate(None, Some("x")).map(|c| c.tenant).ok().as_deref(), Some("x"));
    }

    #[test]
    fn two_tenants_cannot_share_a_token_secret() {
        let dir = std::env::temp_dir().join(format!("kefu-jwt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let secret = dir.join("secret");
        std::fs::write(&secret, "a-shared-secret-of-at-least-32-bytes!").unwrap_or_default();
        let config = crate::config::JwtConfig {
            hs256_secret: Some(crate::config::SecretRef { env: None, file: Some(secret) }),
            rs256_public_key: None,
            issuer: None,
            audience: None,
        };
        let mut keys = Keys::default();
        assert!(keys.add_jwt("a", &config).is_ok());
        let err = keys.add_jwt("b", &config).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("shares a token key"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
    }
}
