//! An SMTP sink for the email tests: accepts EHLO/HELO, STARTTLS (with a self-signed
//! certificate), AUTH PLAIN and LOGIN, MAIL, RCPT and DATA on a free loopback port, and records
//! every message with its envelope, whether it came over TLS and who authenticated.

use base64::Engine as _;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// One received message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mail {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message (headers and body, dot-unstuffed, CRLF line ends).
    pub data: String,
    /// Whether the session had switched to TLS.
    pub tls: bool,
    /// `(username, password)` when the client authenticated.
    pub auth: Option<(String, String)>,
}

impl Mail {
    /// The value of header `name` (case-insensitive; folded lines joined).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = &mut value {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

/// What a sink received, in arrival order.
pub type Mailbox = Arc<Mutex<Vec<Mail>>>;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Starts a sink; returns `127.0.0.1:PORT`. With `starttls`, STARTTLS is offered (self-signed
/// certificate for `localhost`).
pub async fn smtp_sink(mailbox: Mailbox, starttls: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind smtp sink");
    let addr = listener.local_addr().expect("addr");
    let acceptor = starttls.then(tls_acceptor);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let mailbox = Arc::clone(&mailbox);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = session(Box::new(socket), acceptor, mailbox).await;
            });
        }
    });
    addr.to_string()
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls;
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("self-signed certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("tls versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .expect("tls config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

async fn session(
    stream: Box<dyn Stream>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mailbox: Mailbox,
) -> std::io::Result<()> {
    let mut io = BufReader::new(stream);
    let mut tls = false;
    let mut auth: Option<(String, String)> = None;
    let mut mail = Mail::default();
    io.get_mut().write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let mut r = String::from("250-sink\r\n250-8BITMIME\r\n");
            if acceptor.is_some() && !tls {
                r.push_str("250-STARTTLS\r\n");
            }
            r.push_str("250 AUTH PLAIN LOGIN\r\n");
            r
        } else if upper.starts_with("HELO") || upper == "NOOP" || upper == "RSET" {
            "250 ok\r\n".into()
        } else if upper == "STARTTLS" {
            let Some(acceptor) = acceptor.clone().filter(|_| !tls) else {
                io.get_mut().write_all(b"502 no\r\n").await?;
                continue;
            };
            io.get_mut().write_all(b"220 go ahead\r\n").await?;
            let plain = io.into_inner();
            let secured = acceptor.accept(plain).await?;
            io = BufReader::new(Box::new(secured));
            tls = true;
            continue;
        } else if upper.starts_with("AUTH PLAIN") {
            let arg = cmd.get(10..).unwrap_or("").trim().to_owned();
            let arg = if arg.is_empty() {
                io.get_mut().write_all(b"334 \r\n").await?;
                let mut l = String::new();
                io.read_line(&mut l).await?;
                l
            } else {
                arg
            };
            let decoded = b64(&arg);
            let mut parts = decoded.split('\0');
            let _identity = parts.next();
            let user = parts.next().unwrap_or("").to_owned();
            let pass = parts.next().unwrap_or("").to_owned();
            auth = Some((user, pass));
            "235 ok\r\n".into()
        } else if upper.starts_with("AUTH LOGIN") {
            io.get_mut().write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            let mut u = String::new();
            io.read_line(&mut u).await?;
            io.get_mut().write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            let mut p = String::new();
            io.read_line(&mut p).await?;
            auth = Some((b64(&u), b64(&p)));
            "235 ok\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail::default();
            mail.from = address(&cmd[10..]);
            "250 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(address(&cmd[8..]));
            "250 ok\r\n".into()
        } else if upper == "DATA" {
            io.get_mut().write_all(b"354 send it\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if io.read_line(&mut l).await? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                let l = l.strip_prefix('.').unwrap_or(&l);
                data.push_str(l);
            }
            mail.data = data;
            mail.tls = tls;
            mail.auth = auth.clone();
            mailbox
                .lock()
                .expect("lock")
                .push(std::mem::take(&mut mail));
            "250 queued\r\n".into()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "502 unknown command\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

/// The address inside `<...>` (parameters after it dropped).
fn address(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_owned(),
        _ => s.split_whitespace().next().unwrap_or("").to_owned(),
    }
}
