//! Bot definitions: the YAML folder format, its typed model, loading and validation.
//!
//! The format is documented in `docs/bot-format.md` and described by
//! `docs/bot.schema.json`.

mod annotation;
mod load;
mod model;
mod problem;
mod validate;

pub use annotation::{parse_annotated, AnnotatedExample, Annotation, ParsedExample};
pub use load::{load_bot_dir, load_bot_files};
pub use model::*;
pub use problem::{BotProblems, Problem};
pub use validate::BUILTIN_ENTITIES;
