//! The known-device cookie: after a successful login, the browser gets a long-lived cookie
//! holding a random device id and its HMAC under the server's key. The database remembers
//! (by a keyed hash of the id) which child or staff account the device logged in to, so
//! that failures from elsewhere never lock that browser out (issue 13, finding 8).
//!
//! The cookie proves nothing by itself: the codes or the password are still needed; it
//! only decides which failure counters may refuse the attempt.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::service::login::LoginGuard;

/// Name of the device cookie.
pub const DEVICE_COOKIE: &str = "ivr_device";

/// The device id carried by the request's device cookie, if its signature is ours.
pub fn from_jar(jar: &CookieJar, guard: &LoginGuard) -> Option<String> {
    let value = jar.get(DEVICE_COOKIE)?.value();
    let (id, signature) = value.split_once('.')?;
    // 32 random bytes in hex: anything else was not made here.
    let well_formed = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
    (well_formed && guard.device_signature_ok(id, signature)).then(|| id.to_owned())
}

/// A fresh device id: 32 random bytes from the OS generator, in hex.
pub fn fresh_id() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How the login throttle names a browser's device.
pub fn origin_name(id: &str) -> String {
    format!("web:{id}")
}

/// The device cookie for `id`: HttpOnly, SameSite=Lax, Secure over HTTPS, for the whole
/// site, kept `days` days (renewed at each successful login).
pub fn cookie(guard: &LoginGuard, id: &str, secure: bool, days: u32) -> Cookie<'static> {
    let mut c = Cookie::build((DEVICE_COOKIE, format!("{id}.{}", guard.sign_device(id))))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build();
    // Max-Age through the cookie's own parser: its builder wants the `time` crate's
    // Duration, which this crate does not otherwise depend on.
    let max_age = format!("x=y; Max-Age={}", u64::from(days) * 24 * 3600);
    if let Ok(parsed) = Cookie::parse(max_age) {
        c.set_max_age(parsed.max_age());
    }
    c
}
