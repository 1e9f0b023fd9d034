//! The `ax` command tree (clap derive). Only this crate knows clap; commands convert
//! these types into contracts/domain types before calling anything.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::time::Duration;

use ax_adapter_providers::duration::parse_duration;
use ax_contracts::discussion::{ConsensusMethod, Pattern};
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit-code table, shown in `ax --help` and documented in `docs/CLI.md`.
macro_rules! exit_codes_help {
    () => {
        "Exit codes:
  0    success
  1    failure (e.g. a discussion failed, storage error)
  2    usage error (bad arguments, unreadable input, invalid config.toml)
  3    not found
  4    already exists / conflict
  5    invalid profile, patch or discussion configuration
  130  interrupted (Ctrl-C)"
    };
}

const ROOT_AFTER_HELP: &str = concat!(
    "Examples:
  ax agent list --team engineering
  ax agent register --id reviewer2 --description \"Reviews Rust code\" --tag rust
  ax agent recommend \"review this pull request for race conditions\"
  ax discuss \"Should we use SQLite or PostgreSQL for a CLI tool?\"
  ax mcp install --client claude

Data lives in --data-dir, $AX_DATA_DIR or ~/.automatosx (data.db, config.toml);
with --database-url or $AX_DATABASE_URL, agents and discussions live on that
PostgreSQL server instead (docs/STORAGE.md).

",
    exit_codes_help!()
);

/// AutomatosX: a concurrency-safe agent registry and multi-model discussions.
#[derive(Debug, Parser)]
#[command(name = "ax", version, about = "AutomatosX: a concurrency-safe agent registry and multi-model discussions.", after_help = ROOT_AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format: `text` for people, `json` for exactly one JSON document on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Data directory (database, config.toml); default ~/.automatosx. An empty
    /// AX_DATA_DIR is ignored.
    // `OsString` rather than clap's `PathBuf` parser, which refuses an empty value:
    // `AX_DATA_DIR=` means "not set" (docs/CLI.md), and `resolve_data_dir` skips it.
    #[arg(long, global = true, value_name = "DIR", env = "AX_DATA_DIR", value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from))]
    pub data_dir: Option<PathBuf>,
    /// Keep agents and discussions on this PostgreSQL server (postgres://USER:PASSWORD@HOST:PORT/DB)
    /// instead of SQLite in the data directory. Default: $AX_DATABASE_URL, else
    /// `database_url` in config.toml, else SQLite. See docs/STORAGE.md.
    // The value is never echoed: not in --help (hide_env_values), not in Debug.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "AX_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<crate::storage::DatabaseUrlArg>,
    /// The process-wide provider call limit from AX_MAX_CONCURRENT_PROVIDER_CALLS,
    /// read by clap like every other variable. Kept as text and hidden: the variable
    /// is the interface (`--max-concurrent` is the flag, on the commands that run
    /// providers), and `app::resolve_limit` checks it with the documented message
    /// naming the variable, after the flag and before `config.toml`.
    #[arg(
        long = "max-concurrent-provider-calls",
        global = true,
        hide = true,
        value_name = "N",
        env = crate::app::LIMIT_ENV
    )]
    pub limit_from_env: Option<String>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned tables and sentences.
    Text,
    /// One JSON document on stdout, nothing else.
    Json,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register, list, update and recommend agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Put a topic to several AI providers and synthesize their answers.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Discuss(DiscussCommand),
    /// Which providers are configured, installed and answering.
    Providers(ProvidersArgs),
    /// Run or install the MCP server for AI coding assistants.
    #[command(subcommand)]
    Mcp(McpCommand),
    /// Back up the database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Check the data directory, the database, config.toml, the providers and the limit.
    Doctor,
    /// Print shell completions.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `ax agent ...`
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// List agents, ordered by id.
    #[command(
        after_help = "Examples:\n  ax agent list\n  ax agent list --team engineering --tag rust --limit 20\n  ax agent list --capability code-review --format json"
    )]
    List(ListArgs),
    /// Show one agent's full profile.
    #[command(after_help = "Example:\n  ax agent get reviewer --format json")]
    Get {
        /// The agent id.
        id: String,
    },
    /// Register a new agent (fails if the id exists: exit 4).
    #[command(
        after_help = "Examples:\n  ax agent register --file reviewer.json\n  ax agent register --json '{\"agentId\":\"x\",\"description\":\"...\"}'\n  ax agent register --id rusty --description \"Rust reviewer\" --team eng --tag rust --capability code-review"
    )]
    Register(RegisterArgs),
    /// Change fields of an agent (merge; `null` removes a field).
    #[command(
        after_help = "Examples:\n  ax agent update reviewer --json '{\"team\":\"quality\"}'\n  ax agent update reviewer --file patch.json --if-version 3"
    )]
    Update(UpdateArgs),
    /// Remove an agent.
    Remove {
        /// The agent id.
        id: String,
    },
    /// Import profiles: a reference registry file, a profile file, or a directory of .json/.yaml/.yml.
    #[command(
        after_help = "Examples:\n  ax agent import ~/.automatosx-old/agents.json\n  ax agent import ./agents/ --on-conflict replace"
    )]
    Import(ImportArgs),
    /// Export profiles as JSON (all, or the given ids).
    #[command(
        after_help = "Examples:\n  ax agent export > agents.json\n  ax agent export reviewer security --out review-agents.json"
    )]
    Export(ExportArgs),
    /// Recommend agents for a task.
    #[command(
        after_help = "Example:\n  ax agent recommend \"write integration tests for the payment API\" --max 3"
    )]
    Recommend(RecommendArgs),
}

/// `ax agent list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this team (exact).
    #[arg(long)]
    pub team: Option<String>,
    /// Only agents with any of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only agents with this capability (exact).
    #[arg(long)]
    pub capability: Option<String>,
    /// Only enabled agents.
    #[arg(long, conflicts_with = "disabled")]
    pub enabled: bool,
    /// Only disabled agents.
    #[arg(long)]
    pub disabled: bool,
    /// Page size.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub limit: u64,
    /// Agents to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
}

/// `ax agent register`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["file", "json", "id"]))]
pub struct RegisterArgs {
    /// A profile file (.json, .yaml, .yml); `-` reads stdin.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// A profile as JSON text.
    #[arg(long, value_name = "JSON")]
    pub json: Option<String>,
    /// Agent id (with --description, builds a profile from flags).
    #[arg(long, requires = "description", conflicts_with_all = ["file", "json"])]
    pub id: Option<String>,
    /// Description (with --id).
    #[arg(long)]
    pub description: Option<String>,
    /// Display name (with --id).
    #[arg(long)]
    pub display_name: Option<String>,
    /// Role (with --id).
    #[arg(long)]
    pub role: Option<String>,
    /// Team (with --id).
    #[arg(long)]
    pub team: Option<String>,
    /// Tag (with --id; repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Capability (with --id; repeatable).
    #[arg(long = "capability", value_name = "CAPABILITY")]
    pub capabilities: Vec<String>,
    /// System prompt (with --id).
    #[arg(long)]
    pub system_prompt: Option<String>,
    /// Register disabled (with --id).
    #[arg(long)]
    pub disabled: bool,
}

/// `ax agent update`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("patch").required(true).args(["file", "json"]))]
pub struct UpdateArgs {
    /// The agent id.
    pub id: String,
    /// A patch file (.json, .yaml); `-` reads stdin.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// A patch as JSON text, e.g. '{"team":"core","tags":null}'.
    #[arg(long, value_name = "PATCH")]
    pub json: Option<String>,
    /// Only update if the agent is still at this revision (compare-and-swap; exit 4 if not).
    #[arg(long, value_name = "N")]
    pub if_version: Option<u64>,
}

/// `ax agent import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// File or directory to import (`-` reads one JSON or YAML document from stdin).
    pub path: PathBuf,
    /// What to do when an id is already registered.
    #[arg(long, value_enum, default_value_t = OnConflictArg::Skip)]
    pub on_conflict: OnConflictArg,
    /// Import the valid profiles even when others are invalid or unreadable (and, with
    /// `--on-conflict fail`, keep those before the conflict). Without it an import is
    /// all or nothing.
    #[arg(long)]
    pub continue_on_error: bool,
}

/// `--on-conflict`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnConflictArg {
    /// Keep the registered agent.
    Skip,
    /// Overwrite it.
    Replace,
    /// Import nothing if any id exists (exit 4).
    Fail,
}

/// `ax agent export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Agent ids to export (default: all).
    pub ids: Vec<String>,
    /// Write to this file instead of stdout (an existing file only with --force).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists (keeping its permissions).
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `ax agent recommend`
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The task, in your words.
    pub task: String,
    /// Only agents of this team.
    #[arg(long)]
    pub team: Option<String>,
    /// Only agents with this capability (repeatable).
    #[arg(long = "capability", value_name = "CAPABILITY")]
    pub capabilities: Vec<String>,
    /// Never recommend this agent (repeatable).
    #[arg(long = "exclude", value_name = "ID")]
    pub exclude: Vec<String>,
    /// How many agents to show (1–10).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub max: u8,
    /// Score every enabled agent instead of the candidates the term index picks:
    /// exact, but slower in proportion to the registry's size (for comparison).
    #[arg(long)]
    pub exhaustive: bool,
}

/// `ax discuss ...`
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ax discuss \"Is Rust a good fit for a CLI that races many writers?\"
  ax discuss \"Pick a database\" --pattern voting --providers claude,gemini,codex
  ax discuss \"Review this API design\" --pattern critique --rounds 3 --timeout 5m
  ax discuss \"Tabs or spaces?\" --participants claude,reviewer:agent --consensus majority
  ax discuss \"Tabs or spaces?\" --summary --no-pager
  ax discuss history --limit 10
  ax discuss show 019374b2-...

The text output shows every round with each participant's answer, then the synthesis
or vote tally and the consensus; long output opens in $AX_PAGER, else $PAGER, else
`less -FRX` when stdout is a terminal (AX_PAGER= or --no-pager turns it off).")]
pub struct DiscussCommand {
    /// `history` or `show ID`; without a subcommand, start a discussion.
    #[command(subcommand)]
    pub action: Option<DiscussAction>,
    /// Start a discussion.
    #[command(flatten)]
    pub run: DiscussArgs,
}

/// `ax discuss history|show`. `list` and `get` are their aliases — the verbs of
/// `ax agent` and of the MCP tools (`discussion_list`, `discussion_get`) — so that
/// `ax discuss list` lists instead of starting a discussion about the word "list";
/// a topic that is exactly one of these words goes after `--`.
#[derive(Debug, Subcommand)]
pub enum DiscussAction {
    /// Recent discussions, newest first.
    #[command(visible_alias = "list")]
    History {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One saved discussion in full.
    #[command(visible_alias = "get")]
    Show {
        /// The discussion id, or `latest` for the newest.
        id: String,
        /// How to show it.
        #[command(flatten)]
        view: ViewArgs,
    },
}

/// How a discussion result is shown in text mode.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ViewArgs {
    /// Only the conclusion: synthesis or votes, consensus and dissent (not every answer).
    #[arg(long)]
    pub summary: bool,
    /// Print straight to stdout, never through $AX_PAGER / $PAGER / less.
    #[arg(long)]
    pub no_pager: bool,
}

/// `ax discuss "TOPIC" ...`
#[derive(Debug, Args)]
pub struct DiscussArgs {
    /// What to discuss.
    #[arg(required = true)]
    pub topic: Option<String>,
    /// How the providers talk to each other.
    #[arg(long, value_parser = WireNames(Pattern::NAMES))]
    pub pattern: Option<String>,
    /// Providers to ask, comma-separated (default: the available ones).
    #[arg(long, value_delimiter = ',')]
    pub providers: Vec<String>,
    /// Number of rounds (1–10).
    #[arg(long)]
    pub rounds: Option<u32>,
    /// Consensus method.
    #[arg(long, value_parser = WireNames(ConsensusMethod::NAMES))]
    pub consensus: Option<String>,
    /// Provider that writes the synthesis / moderates.
    #[arg(long)]
    pub synthesizer: Option<String>,
    /// Background given to every provider.
    #[arg(long)]
    pub context: Option<String>,
    /// Per-call provider timeout, e.g. 90s, 5m.
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Most provider calls in flight in this process (overrides AX_MAX_CONCURRENT_PROVIDER_CALLS and config.toml).
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// Participants, comma-separated: a provider id, or `ID:agent` for a registered agent.
    #[arg(long, value_delimiter = ',')]
    pub participants: Vec<String>,
    /// One round only.
    #[arg(long)]
    pub fast: bool,
    /// Settle disputed points in sub-discussions.
    #[arg(long)]
    pub recursive: bool,
    /// Fewest providers that must succeed.
    #[arg(long)]
    pub min_providers: Option<u32>,
    /// How to show the result.
    #[command(flatten)]
    pub view: ViewArgs,
}

/// `ax db ...`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy the database into FILE with SQLite's online backup: one consistent
    /// snapshot, safe while other ax processes write.
    #[command(
        after_help = "Examples:\n  ax db backup ~/ax-backup.db\n  ax db backup /backups/ax.db --force\n\nThe copy is a complete database on its own: `ax --data-dir DIR` uses it as DIR/data.db.\nOn PostgreSQL it is a SQLite copy of the agents and discussions (not a point-in-time snapshot; see docs/STORAGE.md)."
    )]
    Backup(BackupArgs),
    /// Copy agents (revisions and timestamps kept), one-time keys and saved
    /// discussions from one database into another: SQLite to PostgreSQL and back.
    /// Only what is missing is written; safe to rerun after an interruption.
    #[command(
        after_help = "FROM and TO are each `sqlite` (data.db in the data directory), a SQLite file, or a postgres:// URL.\n\nExamples:\n  ax db copy --from sqlite --to \"$AX_DATABASE_URL\"\n  ax db copy --from \"$AX_DATABASE_URL\" --to ~/ax-local.db\n  ax db copy --from old.db --to sqlite --overwrite\n\nAn agent or discussion the target has and that differs from the source's is a conflict:\nreported (exit 4) and left alone, unless --overwrite. Nothing on the target is removed."
    )]
    Copy(CopyArgs),
}

/// `ax db copy`
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Where to copy from: `sqlite`, a SQLite file, or a postgres:// URL.
    #[arg(long, value_name = "FROM")]
    pub from: crate::storage::DatabaseUrlArg,
    /// Where to copy to: `sqlite`, a SQLite file (created if missing), or a postgres:// URL.
    #[arg(long, value_name = "TO")]
    pub to: crate::storage::DatabaseUrlArg,
    /// Replace a target agent or discussion that differs from the source's (by
    /// compare-and-swap: one changed meanwhile stays a conflict).
    #[arg(long)]
    pub overwrite: bool,
}

/// `ax db backup`
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (an existing file only with --force).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replace FILE if it exists (keeping its permissions).
    #[arg(long)]
    pub force: bool,
}

/// `ax providers [list|check]`
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// `list` (default) or `check`.
    #[command(subcommand)]
    pub action: Option<ProvidersAction>,
}

/// `ax providers` actions.
#[derive(Debug, Subcommand)]
pub enum ProvidersAction {
    /// Configured providers and whether their executable is on PATH.
    List,
    /// Ask each available provider a tiny prompt and report whether it answers.
    Check {
        /// Only these providers (default: all available).
        #[arg(value_delimiter = ',')]
        providers: Vec<String>,
        /// Per-provider timeout, e.g. 30s, 2m.
        #[arg(long, default_value = "60s", value_parser = parse_duration)]
        timeout: Duration,
    },
}

/// `ax mcp ...`
#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Serve MCP over stdio (default) or Streamable HTTP.
    #[command(
        after_help = "Examples:\n  ax mcp serve\n  ax mcp serve --http\n  ax mcp serve --http 0.0.0.0:8765 --token-file ~/.config/ax/mcp-token"
    )]
    Serve(ServeArgs),
    /// Add ax to an MCP client's configuration (idempotent; keeps other servers).
    Install(InstallArgs),
    /// Print the JSON configuration snippet for MCP clients.
    Config,
}

/// `ax mcp serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve Streamable HTTP at /mcp instead of stdio; ADDR defaults to 127.0.0.1:8765.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8765")]
    pub http: Option<String>,
    /// Bearer token required from HTTP clients (required on non-loopback addresses).
    /// Visible to every local user in `ps`: prefer --token-file or AX_MCP_TOKEN.
    #[arg(long, env = "AX_MCP_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Read the bearer token from this file (surrounding whitespace ignored); takes
    /// precedence over --token and AX_MCP_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Most provider calls in flight in this server process.
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// stdio: most requests in flight before the server stops reading stdin.
    #[arg(long, value_name = "N", env = "AX_MCP_MAX_IN_FLIGHT", default_value_t = ax_mcp_server::DEFAULT_MAX_IN_FLIGHT, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_in_flight: usize,
    /// HTTP: most live sessions; a new one beyond it is answered 503.
    #[arg(long, value_name = "N", env = "AX_MCP_MAX_SESSIONS", default_value_t = ax_mcp_server::DEFAULT_MAX_SESSIONS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_sessions: usize,
    /// Prefix of the exposed tool names (`ax_agent_list`); empty: no prefix. Calls with
    /// and without it are both accepted.
    #[arg(long, value_name = "PREFIX", env = "AX_MCP_TOOL_PREFIX", default_value = ax_mcp_server::DEFAULT_TOOL_PREFIX)]
    pub tool_prefix: String,
    /// HTTP: more `Host` names to accept (besides localhost and the address listened
    /// on), e.g. the machine's DNS name; repeat or separate with commas.
    #[arg(
        long = "allowed-host",
        value_name = "HOST",
        env = "AX_MCP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// HTTP: more browser origins to accept (besides http://localhost:*, ...), e.g.
    /// https://app.example.com:443; repeat or separate with commas.
    #[arg(
        long = "allowed-origin",
        value_name = "ORIGIN",
        env = "AX_MCP_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
}

/// `ax mcp install`
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The client to configure.
    #[arg(long, value_enum)]
    pub client: McpClient,
    /// Project configuration (in the current directory) or the user's.
    #[arg(long, value_enum, default_value_t = InstallScope::User)]
    pub scope: InstallScope,
    /// Print what would be written without writing it.
    #[arg(long)]
    pub dry_run: bool,
}

/// MCP clients `ax mcp install` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum McpClient {
    /// Claude Code.
    Claude,
    /// Cursor.
    Cursor,
    /// OpenAI Codex CLI.
    Codex,
    /// Gemini CLI.
    Gemini,
    /// Visual Studio Code.
    Vscode,
}

/// Where `ax mcp install` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InstallScope {
    /// The current project.
    Project,
    /// The user's configuration.
    User,
}

/// The value list of a flag that takes a contract enum's name: the enum's own wire
/// names (`NAMES` of `ax_contracts::wire_enum!`), so a name is written once, for
/// `--help` and shell completion alike. Any text is accepted here: the contract checks
/// it, so a wrong name is reported together with every other broken rule (exit 5) —
/// the same answer MCP gives for the same configuration.
#[derive(Debug, Clone, Copy)]
struct WireNames(&'static [&'static str]);

impl TypedValueParser for WireNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|name| PossibleValue::new(*name)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn discuss_takes_a_topic_or_a_subcommand() {
        let cli =
            Cli::try_parse_from(["ax", "discuss", "a topic", "--providers", "a,b"]).expect("topic");
        let Command::Discuss(d) = cli.command else {
            panic!("discuss")
        };
        assert_eq!(d.run.topic.as_deref(), Some("a topic"));
        assert_eq!(d.run.providers, ["a", "b"]);
        let cli =
            Cli::try_parse_from(["ax", "discuss", "history", "--limit", "3"]).expect("history");
        let Command::Discuss(d) = cli.command else {
            panic!("discuss")
        };
        assert!(matches!(
            d.action,
            Some(DiscussAction::History { limit: 3 })
        ));
        assert!(
            Cli::try_parse_from(["ax", "discuss"]).is_err(),
            "a topic is required"
        );
    }

    /// `--pattern` and `--consensus` list the contract's names in `--help`, and leave
    /// an unknown name to the contract (which reports it with every other problem).
    #[test]
    fn enum_flags_list_the_contract_names_and_leave_checking_to_it() {
        let mut cmd = Cli::command();
        let discuss = cmd
            .find_subcommand_mut("discuss")
            .expect("discuss")
            .render_long_help()
            .to_string();
        for name in Pattern::NAMES.iter().chain(ConsensusMethod::NAMES) {
            assert!(discuss.contains(name), "--help lists {name}: {discuss}");
        }
        let cli = Cli::try_parse_from(["ax", "discuss", "x", "--pattern", "shouting"])
            .expect("an unknown pattern reaches the contract");
        let Command::Discuss(d) = cli.command else {
            panic!("discuss")
        };
        assert_eq!(d.run.pattern.as_deref(), Some("shouting"));
    }

    #[test]
    fn durations_are_parsed_with_the_flag_and_default_named() {
        let cli = Cli::try_parse_from(["ax", "providers", "check"]).expect("default");
        let Command::Providers(ProvidersArgs {
            action: Some(ProvidersAction::Check { timeout, .. }),
        }) = cli.command
        else {
            panic!("providers check")
        };
        assert_eq!(timeout, Duration::from_secs(60));
        let err = Cli::try_parse_from(["ax", "providers", "check", "--timeout", "90"])
            .expect_err("no unit");
        let message = err.to_string();
        assert!(
            message.contains("--timeout") && message.contains("\"90\" has no unit"),
            "{message}"
        );
        assert_eq!(err.exit_code(), 2, "a usage error");
    }

    #[test]
    fn register_needs_a_source() {
        assert!(Cli::try_parse_from(["ax", "agent", "register"]).is_err());
        assert!(
            Cli::try_parse_from(["ax", "agent", "register", "--id", "x"]).is_err(),
            "--id needs --description"
        );
        assert!(
            Cli::try_parse_from(["ax", "agent", "register", "--id", "x", "--description", "d"])
                .is_ok()
        );
    }
}
