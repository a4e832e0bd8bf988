//! `hangar config set --auth-option email`: the e-mail (device) login `ngc` uses
//! (ngc-api.md §2.4). The server answers a login link and a session key; the user opens the
//! link, signs in and approves; the key is then the bearer of every call, with the user's own
//! roles, until it expires or the user ends it.

use super::Ctx;
use super::config::{updated_file, validate};
use super::http::Api;
use super::output::Report;
use super::settings;
use super::user;
use anyhow::{Result, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

/// How often the server is asked whether the login was approved.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// How long to wait for the approval (the server keeps a login waiting for 15 minutes).
const APPROVAL_WAIT: Duration = Duration::from_secs(10 * 60);

/// A stable id for this machine's client and e-mail (as `ngc` derives one), 19 characters.
fn device_id(ctx: &Ctx, email: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let seed = format!("{host}|{}|{email}", ctx.home.display());
    hex::encode(Sha256::digest(seed.as_bytes()))[..19].to_string()
}

/// Opens the link with the program `BROWSER` names, when there is one; never fails.
fn open_browser(url: &str) {
    let Some(browser) = std::env::var_os("BROWSER").filter(|b| !b.is_empty()) else {
        return;
    };
    // What a browser prints must not mix with this command's output (which may be JSON).
    let started = std::process::Command::new(&browser)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn();
    if let Err(e) = started {
        eprintln!("Could not start the browser {}: {e}", browser.to_string_lossy());
    }
}

pub async fn email_login(ctx: &Ctx, email: Option<String>) -> Result<Report> {
    let email = email
        .or_else(|| ctx.file.email.clone())
        .map(|e| e.trim().to_lowercase())
        .filter(|e| e.contains('@'))
        .ok_or_else(|| anyhow!("Give the e-mail to log in as: --email <address>."))?;
    let mut file = updated_file(&ctx.file, &ctx.flags);
    file.api_key = None;
    file.session_key = None;
    let env_without_key = settings::Layer {
        api_key: None,
        ..ctx.env.clone()
    };
    let anonymous = settings::resolve(&ctx.flags, &env_without_key, &file)?;
    let api = Api::new(&anonymous, ctx.token_cache())?;
    let device = device_id(ctx, &email);
    let started = api
        .call_anonymous(
            Method::POST,
            "/device/login",
            Some(&json!({"deviceId": device, "email": email})),
        )
        .await?;
    let text = |key: &str| started.get(key).and_then(Value::as_str).map(str::to_string);
    let (Some(login_url), Some(session_key)) = (text("loginUrl"), text("sessionKey")) else {
        bail!("The server did not start an e-mail login (its answer has no loginUrl or sessionKey).");
    };
    eprintln!("Open this link in a browser, sign in as {email} and approve the login:\n  {login_url}");
    open_browser(&login_url);
    wait_for_approval(&api, &session_key).await?;
    file.session_key = Some(session_key);
    file.email = Some(email.clone());
    let settings = settings::resolve(&ctx.flags, &ctx.env, &file)?;
    let api = Api::new(&settings, ctx.token_cache())?;
    if let Err(refused) = validate(&api, &settings).await {
        end_this_login(&api).await;
        return Err(refused);
    }
    let path = ctx.config_path();
    settings::save_file(&path, &file)?;
    let hours = started.get("expiresIn").and_then(Value::as_i64).unwrap_or(0) / 3600;
    Ok(Report::new().text(format!(
        "Logged in as {email} (e-mail login, valid {hours} h). Successfully saved configuration to {}.",
        path.display()
    )))
}

/// Ends the login just approved when the settings that go with it are refused (a wrong org or
/// team), so no session the user never got is left behind; best effort.
async fn end_this_login(api: &Api) {
    let Ok(list) = user::sessions(api).await else { return };
    let this = list
        .get("sessions")
        .and_then(Value::as_array)
        .and_then(|all| all.iter().find(|s| s.get("current") == Some(&Value::Bool(true))))
        .and_then(|s| s.get("id"))
        .and_then(Value::as_i64);
    if let Some(id) = this {
        let _ = user::end_session(api, id).await;
    }
}

async fn wait_for_approval(api: &Api, session_key: &str) -> Result<()> {
    let deadline = Instant::now() + APPROVAL_WAIT;
    let mut said = false;
    loop {
        match api.ping_as(session_key).await? {
            StatusCode::OK => return Ok(()),
            StatusCode::UNAUTHORIZED if Instant::now() < deadline => {
                if !said {
                    eprintln!("Waiting for the approval...");
                    said = true;
                }
                tokio::time::sleep(POLL_EVERY).await;
            }
            StatusCode::UNAUTHORIZED => bail!(
                "The login was not approved within {} minutes; run the command again.",
                APPROVAL_WAIT.as_secs() / 60
            ),
            StatusCode::FORBIDDEN => bail!("The login was denied on its approval page."),
            other => bail!("The server refused the login while waiting for its approval ({other})."),
        }
    }
}
