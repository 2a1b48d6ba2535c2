//! Online features: the registry client, credentials, the digest cache,
//! the lock file and the pin engine. Nothing here runs unless the user
//! asks (`refit pin`, `refit update`, `refit registry`, `refit check --online`): refit is
//! offline by default.

pub mod auth;
pub mod check;
pub mod cli;
pub mod client;
pub mod dotenv_edit;
pub mod lock;
pub mod pin;
pub mod platforms;
pub mod resolve;
pub mod status;
pub mod update;
pub mod update_cli;
pub mod verified;
pub mod verify;
pub mod versions;
