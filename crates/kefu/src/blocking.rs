//! A blocking facade over the async engine, for code without an async runtime (scripts,
//! Flask/Django-style bindings). It owns a small runtime and never touches the caller's.

use crate::error::Error;
use kefu_core::{Engine, Reply, Turn};
use std::path::Path;

/// An engine whose calls block until the reply is ready.
pub struct BlockingEngine {
    runtime: tokio::runtime::Runtime,
    engine: Engine,
}

impl BlockingEngine {
    /// Wraps an engine.
    pub fn new(engine: Engine) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .thread_name("kefu-blocking")
            .build()
            .map_err(Error::Runtime)?;
        Ok(Self { runtime, engine })
    }

    /// Opens a bot folder with the embedded defaults (see [`crate::Assistant::open`]).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::new(crate::Assistant::open(dir)?)
    }

    /// Handles one turn.
    pub fn handle(&self, turn: Turn) -> Result<Reply, Error> {
        Ok(self.runtime.block_on(self.engine.handle(turn))?)
    }

    /// The async engine underneath.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}
