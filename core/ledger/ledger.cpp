#include "ledger/ledger.hpp"

#include <chrono>

#include <sqlite3.h>

namespace mlwm::ledger {
namespace {

constexpr int kBusyTimeoutMs = 5000;  // a write waits this long for another writer

// A prepared statement, finalised at scope exit.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
            throw LedgerError(std::string("ledger: cannot prepare statement: ") +
                              sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    bool step() {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw LedgerError(std::string("ledger: ") + sqlite3_errmsg(db_));
    }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(s_, col);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
    void reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }

private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
};

constexpr const char* kColumns =
    "run_id, model, analysis_time, member, state, attempt, container_id, not_before, message, "
    "created, updated, deadline, force, late, gpus";

RunRecord read_record(const Stmt& s) {
    RunRecord r;
    r.run_id = s.text(0);
    r.model = s.text(1);
    r.analysis_time = s.text(2);
    r.member = static_cast<int>(s.integer(3));
    r.state = run::parse_state(s.text(4)).value_or(run::RunState::failed);
    r.attempt = static_cast<int>(s.integer(5));
    r.container_id = s.text(6);
    r.not_before = s.integer(7);
    r.message = s.text(8);
    r.created = s.integer(9);
    r.updated = s.integer(10);
    r.deadline = s.integer(11);
    r.force = s.integer(12) != 0;
    r.late = static_cast<int>(s.integer(13));
    r.gpus = s.text(14);
    return r;
}

}  // namespace

Ledger::Ledger(const std::filesystem::path& file, const util::Clock& clock)
    : clock_(clock), file_(file) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw LedgerError("cannot open the run ledger " + file.string() + ": " + msg);
    }
    db_ = db;
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");  // a transition survives a crash once written
    exec("PRAGMA cache_size=-1024");  // 1 MiB: the daemon reads few rows at a time
    exec(
        "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, model TEXT NOT NULL, "
        "analysis_time TEXT NOT NULL, "
        "member INTEGER NOT NULL, state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, "
        "container_id TEXT NOT NULL "
        "DEFAULT '', not_before INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '', "
        "created INTEGER NOT NULL, "
        "updated INTEGER NOT NULL)");
    // columns added after the first release: a ledger from before gains them
    for (const char* column :
         {"deadline INTEGER NOT NULL DEFAULT 0", "force INTEGER NOT NULL DEFAULT 0",
          "late INTEGER NOT NULL DEFAULT 0", "gpus TEXT NOT NULL DEFAULT ''"}) {
        const std::string name = std::string(column).substr(0, std::string(column).find(' '));
        Stmt info(db, "SELECT 1 FROM pragma_table_info('runs') WHERE name = ?");
        info.bind(1, name);
        if (!info.step()) exec(std::string("ALTER TABLE runs ADD COLUMN ") + column);
    }
    exec("CREATE INDEX IF NOT EXISTS runs_state ON runs(state)");
    exec("CREATE INDEX IF NOT EXISTS runs_updated ON runs(updated)");  // recent runs
    exec(
        "CREATE TABLE IF NOT EXISTS transitions (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT "
        "NOT NULL, at INTEGER "
        "NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, message TEXT NOT NULL)");
    exec("CREATE INDEX IF NOT EXISTS transitions_run ON transitions(run_id)");
}

Ledger::~Ledger() {
    sqlite3_close(static_cast<sqlite3*>(db_));
}

void Ledger::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(static_cast<sqlite3*>(db_), sql.c_str(), nullptr, nullptr, &err) !=
        SQLITE_OK) {
        const std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw LedgerError("run ledger " + file_.string() + ": " + msg);
    }
}

void Ledger::record_history(const std::string& run_id, std::int64_t at, std::string_view from,
                            std::string_view to, const std::string& message) {
    Stmt hist(static_cast<sqlite3*>(db_),
              "INSERT INTO transitions (run_id, at, from_state, to_state, message) VALUES (?, ?, "
              "?, ?, ?)");
    hist.bind(1, run_id)
        .bind(2, at)
        .bind(3, std::string(from))
        .bind(4, std::string(to))
        .bind(5, message);
    hist.step();
}

RunRecord Ledger::ensure(const std::string& run_id, const std::string& model,
                         const std::string& analysis_time, int member) {
    const std::lock_guard lock(mutex_);
    auto* db = static_cast<sqlite3*>(db_);
    const std::int64_t now = clock_.unix_now();
    Stmt ins(db,
             "INSERT OR IGNORE INTO runs (run_id, model, analysis_time, member, state, created, "
             "updated) "
             "VALUES (?, ?, ?, ?, 'waiting_inputs', ?, ?)");
    ins.bind(1, run_id)
        .bind(2, model)
        .bind(3, analysis_time)
        .bind(4, std::int64_t{member})
        .bind(5, now)
        .bind(6, now);
    ins.step();
    return *get(run_id);
}

std::vector<bool> Ledger::ensure_all(const std::vector<NewRun>& runs, run::RunState state,
                                     const std::string& message) {
    const std::lock_guard lock(mutex_);
    std::vector<bool> inserted(runs.size(), false);
    if (runs.empty()) return inserted;
    auto* db = static_cast<sqlite3*>(db_);
    exec("BEGIN IMMEDIATE");
    try {
        const std::int64_t now = clock_.unix_now();
        const std::string st(run::state_name(state));
        Stmt ins(db,
                 "INSERT OR IGNORE INTO runs (run_id, model, analysis_time, member, state, "
                 "message, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        Stmt hist(db,
                  "INSERT INTO transitions (run_id, at, from_state, to_state, message) VALUES (?, "
                  "?, '', ?, ?)");
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const NewRun& r = runs[i];
            ins.reset();
            ins.bind(1, r.run_id)
                .bind(2, r.model)
                .bind(3, r.analysis_time)
                .bind(4, std::int64_t{r.member})
                .bind(5, st)
                .bind(6, message)
                .bind(7, now)
                .bind(8, now);
            ins.step();
            inserted[i] = sqlite3_changes(db) > 0;
            if (!inserted[i] || state == run::RunState::waiting_inputs) continue;
            hist.reset();
            hist.bind(1, r.run_id).bind(2, now).bind(3, st).bind(4, message);
            hist.step();
        }
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
    return inserted;
}

std::vector<RunRecord> Ledger::unfinished() {
    const std::lock_guard lock(mutex_);
    Stmt s(static_cast<sqlite3*>(db_),
           (std::string("SELECT ") + kColumns +
            // an IN list of the other states uses the state index: the finished
            // runs (thousands after months) are not read
            " FROM runs WHERE state IN ('waiting_inputs', 'staging', 'launching', 'running', "
            "'publishing', 'failed', 'timed_out') ORDER BY analysis_time, run_id")
               .c_str());
    std::vector<RunRecord> out;
    while (s.step()) out.push_back(read_record(s));
    return out;
}

std::map<run::RunState, std::size_t> Ledger::count_by_state() {
    const std::lock_guard lock(mutex_);
    Stmt s(static_cast<sqlite3*>(db_), "SELECT state, COUNT(*) FROM runs GROUP BY state");
    std::map<run::RunState, std::size_t> out;
    while (s.step())
        if (auto st = run::parse_state(s.text(0)))
            out[*st] = static_cast<std::size_t>(s.integer(1));
    return out;
}

std::map<std::string, Ledger::Succeeded> Ledger::succeeded_by_model() {
    const std::lock_guard lock(mutex_);
    // the key form of analysis times sorts as time does
    Stmt s(static_cast<sqlite3*>(db_),
           "SELECT model, MAX(updated), MAX(analysis_time) FROM runs WHERE state = ? GROUP BY "
           "model");
    s.bind(1, std::string(run::state_name(run::RunState::succeeded)));
    std::map<std::string, Succeeded> out;
    while (s.step()) out[s.text(0)] = {s.integer(1), s.text(2)};
    return out;
}

std::optional<RunRecord> Ledger::get(const std::string& run_id) {
    const std::lock_guard lock(mutex_);
    Stmt s(static_cast<sqlite3*>(db_),
           (std::string("SELECT ") + kColumns + " FROM runs WHERE run_id = ?").c_str());
    s.bind(1, run_id);
    if (!s.step()) return std::nullopt;
    return read_record(s);
}

RunRecord Ledger::transition(const std::string& run_id, run::RunState to,
                             const std::string& message, std::optional<std::string> container_id,
                             std::optional<std::int64_t> not_before,
                             std::optional<std::int64_t> deadline) {
    const std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
        step(run_id, to, message, container_id, not_before, deadline);
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
    return *get(run_id);
}

RunRecord Ledger::end_attempt(const std::string& run_id, run::RunState to,
                              const std::string& message, std::optional<Retry> retry) {
    const std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
        step(run_id, to, message, std::nullopt, std::nullopt, std::nullopt);
        if (retry)
            step(run_id, run::RunState::waiting_inputs, retry->message, std::nullopt,
                 retry->not_before, std::nullopt);
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
    return *get(run_id);
}

void Ledger::step(const std::string& run_id, run::RunState to, const std::string& message,
                  std::optional<std::string> container_id, std::optional<std::int64_t> not_before,
                  std::optional<std::int64_t> deadline) {
    auto current = get(run_id);
    if (!current) throw LedgerError("ledger: no run " + run_id);
    if (!run::transition_allowed(current->state, to))
        throw LedgerError("ledger: run " + run_id + " cannot go from " +
                          std::string(run::state_name(current->state)) + " to " +
                          std::string(run::state_name(to)));
    const std::int64_t now = clock_.unix_now();
    const bool retry = to == run::RunState::waiting_inputs;
    Stmt up(static_cast<sqlite3*>(db_),
            "UPDATE runs SET state = ?, message = ?, updated = ?, attempt = attempt + ?, "
            "container_id = ?, "
            "not_before = ?, deadline = ?, force = force * ? WHERE run_id = ?");
    up.bind(1, std::string(run::state_name(to)))
        .bind(2, message)
        .bind(3, now)
        .bind(4, std::int64_t{retry ? 1 : 0})
        .bind(5, container_id.value_or(retry ? std::string() : current->container_id))
        .bind(6, not_before.value_or(current->not_before))
        .bind(7, deadline.value_or(retry ? 0 : current->deadline))
        // a forced rerun stays forced until it ends
        .bind(8, std::int64_t{run::is_final(to) ? 0 : 1})
        .bind(9, run_id);
    up.step();
    record_history(run_id, now, run::state_name(current->state), run::state_name(to), message);
}

bool Ledger::rerun(const std::string& run_id, const std::string& message) {
    const std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
        auto current = get(run_id);
        if (!current) throw LedgerError("ledger: no run " + run_id);
        if (!run::rerun_allowed(current->state)) {
            exec("ROLLBACK");
            return false;
        }
        const std::int64_t now = clock_.unix_now();
        Stmt up(static_cast<sqlite3*>(db_),
                "UPDATE runs SET state = 'waiting_inputs', message = ?, updated = ?, attempt = 0, "
                "container_id = '', not_before = 0, deadline = 0, force = 1, late = 0 "
                "WHERE run_id = ?");
        up.bind(1, message).bind(2, now).bind(3, run_id);
        up.step();
        record_history(run_id, now, run::state_name(current->state), "waiting_inputs", message);
        exec("COMMIT");
        return true;
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

void Ledger::retry_publishing(const std::string& run_id, const std::string& message,
                              std::int64_t not_before) {
    const std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE");
    try {
        const auto current = get(run_id);
        if (!current) throw LedgerError("ledger: no run " + run_id);
        if (current->state != run::RunState::publishing)
            throw LedgerError("ledger: run " + run_id + " is " +
                              std::string(run::state_name(current->state)) + ", not publishing");
        const std::int64_t now = clock_.unix_now();
        Stmt up(static_cast<sqlite3*>(db_),
                "UPDATE runs SET message = ?, updated = ?, attempt = attempt + 1, not_before = ? "
                "WHERE run_id = ?");
        up.bind(1, message).bind(2, now).bind(3, not_before).bind(4, run_id);
        up.step();
        record_history(run_id, now, "publishing", "publishing", message);
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

void Ledger::mark_late(const std::string& run_id, int kind) {
    const std::lock_guard lock(mutex_);
    Stmt up(static_cast<sqlite3*>(db_), "UPDATE runs SET late = late | ? WHERE run_id = ?");
    up.bind(1, std::int64_t{kind}).bind(2, run_id);
    up.step();
}

void Ledger::set_gpus(const std::string& run_id, const std::string& gpus) {
    const std::lock_guard lock(mutex_);
    Stmt up(static_cast<sqlite3*>(db_), "UPDATE runs SET gpus = ? WHERE run_id = ?");
    up.bind(1, gpus).bind(2, run_id);
    up.step();
}

std::vector<RunRecord> Ledger::in_state(run::RunState st) {
    const std::lock_guard lock(mutex_);
    Stmt s(static_cast<sqlite3*>(db_), (std::string("SELECT ") + kColumns +
                                        " FROM runs WHERE state = ? ORDER BY analysis_time, run_id")
                                           .c_str());
    s.bind(1, std::string(run::state_name(st)));
    std::vector<RunRecord> out;
    while (s.step()) out.push_back(read_record(s));
    return out;
}

std::vector<RunRecord> Ledger::recent(int limit) {
    const std::lock_guard lock(mutex_);
    Stmt s(static_cast<sqlite3*>(db_),
           (std::string("SELECT ") + kColumns + " FROM runs ORDER BY updated DESC, run_id LIMIT ?")
               .c_str());
    s.bind(1, std::int64_t{limit});
    std::vector<RunRecord> out;
    while (s.step()) out.push_back(read_record(s));
    return out;
}

std::vector<Transition> Ledger::history(const std::string& run_id) {
    const std::lock_guard lock(mutex_);
    Stmt s(static_cast<sqlite3*>(db_),
           "SELECT run_id, at, from_state, to_state, message FROM transitions WHERE run_id = ? "
           "ORDER BY id");
    s.bind(1, run_id);
    std::vector<Transition> out;
    while (s.step()) out.push_back({s.text(0), s.integer(1), s.text(2), s.text(3), s.text(4)});
    return out;
}

bool Ledger::writable() {
    const std::lock_guard lock(mutex_);
    // a probe for /readyz on the event loop: 100 ms at most, not the 5 s a
    // real write waits for a lock another process holds
    auto* db = static_cast<sqlite3*>(db_);
    sqlite3_busy_timeout(db, 100);
    bool ok = true;
    try {
        exec("BEGIN IMMEDIATE");
        exec("ROLLBACK");
    } catch (const LedgerError&) {
        ok = false;
    }
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    return ok;
}

}  // namespace mlwm::ledger
