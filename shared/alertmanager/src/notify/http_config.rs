//! A receiver's `http_config` (Prometheus's common HTTP client settings) applied to its
//! requests: `basic_auth`, `authorization`, `bearer_token` (and their `*_file` forms),
//! `tls_config` (`ca_file`, `cert_file` + `key_file`, `insecure_skip_verify`), `proxy_url`
//! and `follow_redirects`. `oauth2` and `server_name` are not applied (named in
//! docs/alerting.md). Files are read when the integration is built, that is at every pass.

use serde_yaml_ng::Value;
use std::time::Duration;

/// The client and `Authorization` header of one integration.
#[derive(Debug, Clone)]
pub(crate) struct HttpSettings {
    /// The client (the shared one when `http_config` changes nothing about it).
    pub(crate) client: reqwest::Client,
    /// The `Authorization` header value, if any.
    pub(crate) authorization: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn secret(v: &Value, key: &str) -> Result<Option<String>, String> {
    if let Some(s) = text(v, key) {
        return Ok(Some(s));
    }
    match text(v, &format!("{key}_file")) {
        Some(path) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim().to_owned()))
            .map_err(|e| format!("http_config: reading {path}: {e}")),
        None => Ok(None),
    }
}

/// The settings `config` asks for, over `shared` when it needs no client of its own.
pub(crate) fn http_settings(
    shared: &reqwest::Client,
    config: Option<&Value>,
) -> Result<HttpSettings, String> {
    let Some(c) = config.filter(|c| c.is_mapping()) else {
        return Ok(HttpSettings {
            client: shared.clone(),
            authorization: None,
        });
    };
    use base64::Engine as _;
    let authorization = if let Some(basic) = c.get("basic_auth") {
        let user = match text(basic, "username") {
            Some(u) => u,
            None => secret(basic, "username")?.unwrap_or_default(),
        };
        let password = secret(basic, "password")?.unwrap_or_default();
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ))
    } else if let Some(auth) = c.get("authorization") {
        let kind = text(auth, "type").unwrap_or_else(|| "Bearer".to_owned());
        secret(auth, "credentials")?.map(|cred| format!("{kind} {cred}"))
    } else {
        secret(c, "bearer_token")?.map(|t| format!("Bearer {t}"))
    };
    let tls = c.get("tls_config");
    let proxy = text(c, "proxy_url");
    let follow_redirects = c.get("follow_redirects").and_then(Value::as_bool);
    if tls.is_none() && proxy.is_none() && follow_redirects != Some(false) {
        return Ok(HttpSettings {
            client: shared.clone(),
            authorization,
        });
    }
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(tls) = tls {
        if tls.get("insecure_skip_verify").and_then(Value::as_bool) == Some(true) {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if let Some(ca) = text(tls, "ca_file") {
            let pem = std::fs::read(&ca).map_err(|e| format!("http_config: reading {ca}: {e}"))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("http_config: {ca}: {e}"))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let (Some(cert), Some(key)) = (text(tls, "cert_file"), text(tls, "key_file")) {
            let mut pem =
                std::fs::read(&cert).map_err(|e| format!("http_config: reading {cert}: {e}"))?;
            pem.extend(
                std::fs::read(&key).map_err(|e| format!("http_config: reading {key}: {e}"))?,
            );
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| format!("http_config: client certificate: {e}"))?;
            builder = builder.identity(identity);
        }
    }
    if let Some(proxy) = proxy {
        builder = builder.proxy(
            reqwest::Proxy::all(&proxy).map_err(|e| format!("http_config: proxy_url: {e}"))?,
        );
    }
    if follow_redirects == Some(false) {
        builder = builder.redirect(reqwest::redirect::Policy::none());
    }
    Ok(HttpSettings {
        client: builder.build().map_err(|e| format!("http_config: {e}"))?,
        authorization,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn auth(yaml: &str) -> Option<String> {
        let v: Value = serde_yaml_ng::from_str(yaml).unwrap();
        http_settings(&reqwest::Client::new(), Some(&v))
            .unwrap()
            .authorization
    }

    #[test]
    fn authorization_headers_as_prometheus_common() {
        assert_eq!(
            auth("basic_auth: {username: u, password: p}").as_deref(),
            Some("Basic dTpw")
        );
        assert_eq!(
            auth("authorization: {credentials: tok}").as_deref(),
            Some("Bearer tok")
        );
        assert_eq!(
            auth("authorization: {type: Token, credentials: tok}").as_deref(),
            Some("Token tok")
        );
        assert_eq!(auth("bearer_token: tok").as_deref(), Some("Bearer tok"));
        assert_eq!(auth("follow_redirects: true"), None);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-file\n").unwrap();
        assert_eq!(
            auth(&format!(
                "basic_auth: {{username: u, password_file: {}}}",
                file.display()
            ))
            .as_deref(),
            Some("Basic dTpmcm9tLWZpbGU=")
        );
        let missing: Value =
            serde_yaml_ng::from_str("bearer_token_file: /nonexistent/token").unwrap();
        assert!(http_settings(&reqwest::Client::new(), Some(&missing)).is_err());
    }
}
