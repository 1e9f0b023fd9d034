//! End-to-end tests: the real `ax` binary, real OS processes, real SQLite files in
//! temporary data directories. One test binary (faster to build and link) with a
//! `helpers` module, in the zero2prod style.

mod agent_files;
mod agents;
mod architecture;
mod database;
mod discuss;
mod helpers;
mod import_stream;
mod input;
mod mcp;
mod mcp_client;
mod mcp_docs;
mod mcp_http;
mod mcp_install;
mod mcp_sdk;
mod postgres;
mod races;
mod readme;
mod terminal;
