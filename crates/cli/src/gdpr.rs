//! `kefu gdpr export|delete --tenant T --user ID [--redis URL] [--embedded FILE] [--archive YAML]`:
//! a data subject's access and erasure requests over every configured backend.

use kefu_backends::archive::{ArchiveConfig, TranscriptArchive};
use kefu_backends::gdpr::DataSubjectRequests;
use kefu_backends::store::embedded::EmbeddedSessionStore;
use kefu_backends::store::redis::RedisSessionStore;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Print everything kept about the user as JSON (or write it to --out).
    Export {
        #[command(flatten)]
        target: Target,
        /// Write the JSON here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Delete everything kept about the user; prints what was deleted as JSON.
    Delete {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(clap::Args)]
struct Target {
    /// The user id (as in `Turn::user_id`).
    #[arg(long)]
    user: String,
    /// Tenant.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Redis session store URL (`redis://host:6379/0`).
    #[arg(long)]
    redis: Option<String>,
    /// Key prefix of the Redis session store.
    #[arg(long, default_value = "kefu")]
    redis_prefix: String,
    /// Embedded session store file (stop the server that uses it first: one process at a time).
    #[arg(long)]
    embedded: Option<PathBuf>,
    /// Archive configuration (YAML, see docs/backends.md); `env` reads the KEFU_ARCHIVE_* variables.
    #[arg(long)]
    archive: Option<String>,
}

async fn requests(t: &Target) -> Result<DataSubjectRequests, String> {
    let mut r = DataSubjectRequests::new();
    let mut any = false;
    if let Some(url) = &t.redis {
        let store = RedisSessionStore::connect(url, &t.redis_prefix).await.map_err(|e| e.to_string())?;
        r = r.session_store("redis", Arc::new(store));
        any = true;
    }
    if let Some(path) = &t.embedded {
        if !path.is_file() {
            return Err(format!("--embedded {}: no such store file", path.display()));
        }
        let store = EmbeddedSessionStore::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        r = r.session_store("embedded", Arc::new(store));
        any = true;
    }
    if let Some(a) = &t.archive {
        let config =
            if a == "env" { ArchiveConfig::from_env() } else { ArchiveConfig::from_yaml_file(std::path::Path::new(a)) }
                .map_err(|e| e.to_string())?;
        r = r.archive(Arc::new(TranscriptArchive::open(&config).map_err(|e| e.to_string())?));
        any = true;
    }
    if !any {
        return Err("give at least one of --redis, --embedded, --archive".into());
    }
    Ok(r)
}

pub fn run(a: Args) -> Result<ExitCode, String> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        match a.action {
            Action::Export { target, out } => {
                let export = requests(&target)
                    .await?
                    .export_user(&target.tenant, &target.user)
                    .await
                    .map_err(|e| e.to_string())?;
                let json = serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?;
                match out {
                    Some(p) => std::fs::write(&p, json + "\n").map_err(|e| format!("{}: {e}", p.display()))?,
                    None => println!("{json}"),
                }
            }
            Action::Delete { target } => {
                let report = requests(&target)
                    .await?
                    .delete_user(&target.tenant, &target.user)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
