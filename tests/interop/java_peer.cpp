#include "java_peer.hpp"

#include "sleep.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace corocket::test {

namespace {

constexpr auto tuple_token = asio::as_tuple(asio::deferred);

struct build_outcome {
    bool ok = false;
    std::string classpath;  // ok: the last line build.sh printed
    std::string output;     // everything it printed
};

/// Runs build.sh once per process: the classpath to start the peer with, or why there is none.
const build_outcome& build_peer()
{
    static const build_outcome outcome = [] {
        std::signal(SIGPIPE, SIG_IGN);  // a peer that died must fail a write, not kill the tests
        build_outcome b;
        const std::string cmd =
            std::string(COROCKET_INTEROP_JAVA_DIR) + "/build.sh '" + COROCKET_INTEROP_OUT_DIR + "' 2>&1";
        FILE* f = ::popen(cmd.c_str(), "r");
        if (!f) {
            b.output = "popen failed";
            return b;
        }
        char chunk[4096];
        for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;)
            b.output.append(chunk, n);
        b.ok = ::pclose(f) == 0;
        // The JVMs of this run append their stderr here (see java_peer::java_peer): start it empty.
        if (FILE* log = std::fopen((std::string(COROCKET_INTEROP_OUT_DIR) + "/peer-stderr.log").c_str(), "w"))
            std::fclose(log);
        auto text = std::string_view(b.output);
        while (!text.empty() && text.back() == '\n')
            text.remove_suffix(1);
        b.classpath = std::string(text.substr(text.rfind('\n') + 1));
        return b;
    }();
    return outcome;
}

std::vector<std::string> jvm_command(const std::string& classpath, const std::string& namesrv)
{
    const std::string out = COROCKET_INTEROP_OUT_DIR;
    return {"java",
            // Start fast and stay small: the suite starts one JVM per test case on a 2-core machine.
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xms32m", "-Xmx256m",
            // Java consumers rebalance every second (20 s by default), as often as the tests need.
            "-Drocketmq.client.rebalance.waitInterval=1000",
            "-Drocketmq.client.logRoot=" + out + "/logs", "-Drocketmq.client.logFileMaxSize=16777216",
            "-Drocketmq.client.logFileMaxIndex=2",
            // Broadcasting consumers keep their offsets here rather than in ~/.rocketmq_offsets.
            "-Drocketmq.client.localOffsetStoreDir=" + out + "/offsets",
            "-cp", classpath, "org.corocket.interop.Peer", namesrv};
}

}  // namespace

bool interop_enabled()
{
    const char* env = std::getenv("COROCKET_NAMESRV");
    return env && *env;
}

struct java_peer::state {
    explicit state(asio::any_io_executor ex) : in(ex), out(ex) {}

    asio::posix::stream_descriptor in;   // the peer's stdin
    asio::posix::stream_descriptor out;  // the peer's stdout
    pid_t pid = -1;
    bool ready = false;
    bool eof = false;
    std::int64_t next_seq = 1;
    std::map<std::int64_t, json::object> replies;
    std::vector<json::object> events;
    std::vector<std::string> bad_lines;

    void on_line(std::string_view line)
    {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        if (ec || !v.is_object()) {
            bad_lines.emplace_back(line);
            return;
        }
        auto& o = v.as_object();
        const auto ev = o["ev"].as_string();
        if (ev == "ready")
            ready = true;
        else if (ev == "reply")
            replies[o["seq"].to_number<std::int64_t>()] = std::move(o);
        else
            events.push_back(std::move(o));
    }

    /// Reaps the JVM if it has exited; true once it has.
    bool reaped()
    {
        if (pid <= 0)
            return true;
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid)
            pid = -1;
        return pid <= 0;
    }
};

namespace {

asio::awaitable<void> read_events(std::shared_ptr<java_peer::state> s);

}  // namespace

java_peer::java_peer(asio::any_io_executor ex, std::string namesrv) : state_(std::make_shared<state>(ex))
{
    const auto& built = build_peer();
    if (!built.ok)
        FAIL("the Java peer did not build:\n" << built.output);
    int to_peer[2], from_peer[2];
    REQUIRE(::pipe2(to_peer, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from_peer, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, to_peer[0], 0);
    ::posix_spawn_file_actions_adddup2(&actions, from_peer[1], 1);
    const std::string log = std::string(COROCKET_INTEROP_OUT_DIR) + "/peer-stderr.log";
    ::posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    auto args = jvm_command(built.classpath, namesrv);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawnp(&state_->pid, "java", &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(to_peer[0]);
    ::close(from_peer[1]);
    state_->in.assign(to_peer[1]);
    state_->out.assign(from_peer[0]);
    if (rc != 0)
        FAIL("could not start java: " << std::strerror(rc));
    asio::co_spawn(ex, read_events(state_), asio::detached);
}

java_peer::~java_peer()
{
    boost::system::error_code ignored;
    state_->in.close(ignored);
    state_->out.close(ignored);
    if (!state_->reaped()) {
        ::kill(state_->pid, SIGKILL);
        ::waitpid(state_->pid, nullptr, 0);
        state_->pid = -1;
    }
}

asio::awaitable<void> java_peer::start()
{
    for (auto end = std::chrono::steady_clock::now() + 60s; !state_->ready && !state_->eof;) {
        if (std::chrono::steady_clock::now() > end)
            break;
        co_await sleep_for(5ms);
    }
    INFO("the Java peer's stderr is in " << COROCKET_INTEROP_OUT_DIR << "/peer-stderr.log");
    REQUIRE(state_->ready);
}

asio::awaitable<json::object> java_peer::try_call(json::object cmd)
{
    const auto seq = state_->next_seq++;
    cmd["seq"] = seq;
    auto line = json::serialize(cmd) + "\n";
    auto [wec, n] = co_await asio::async_write(state_->in, asio::buffer(line), tuple_token);
    INFO("writing to the Java peer: " << json::serialize(cmd));
    REQUIRE_FALSE(wec);
    // A send waits for the broker (the peer's send timeout is 15 s); a consumer start for routes.
    for (auto end = std::chrono::steady_clock::now() + 60s; !state_->replies.contains(seq) && !state_->eof;) {
        if (std::chrono::steady_clock::now() > end)
            break;
        co_await sleep_for(2ms);
    }
    INFO("no reply from the Java peer to " << json::serialize(cmd));
    REQUIRE(state_->replies.contains(seq));
    auto reply = std::move(state_->replies[seq]);
    state_->replies.erase(seq);
    co_return reply;
}

asio::awaitable<json::object> java_peer::call(json::object cmd)
{
    const auto op = json::serialize(cmd);
    auto reply = co_await try_call(std::move(cmd));
    INFO("the Java peer failed " << op << ": " << json::serialize(reply));
    REQUIRE(reply["ok"].as_bool());
    co_return reply;
}

const std::vector<json::object>& java_peer::events() const { return state_->events; }

std::vector<json::object> java_peer::messages(std::string_view ev, std::string_view id) const
{
    std::vector<json::object> out;
    for (const auto& e : state_->events)
        if (e.at("ev").as_string() == ev && e.at("id").as_string() == id)
            out.push_back(e.at("msg").as_object());
    return out;
}

asio::awaitable<void> java_peer::close()
{
    boost::system::error_code ignored;
    state_->in.close(ignored);  // the peer shuts its clients down and exits
    for (auto end = std::chrono::steady_clock::now() + 30s; !state_->reaped();) {
        if (std::chrono::steady_clock::now() > end) {
            WARN("the Java peer did not exit within 30 s of its stdin closing; killed");
            ::kill(state_->pid, SIGKILL);
            ::waitpid(state_->pid, nullptr, 0);
            state_->pid = -1;
            break;
        }
        co_await sleep_for(10ms);
    }
    state_->out.close(ignored);
    INFO("lines from the Java peer that were not JSON events");
    CHECK(state_->bad_lines.empty());
}

namespace {

asio::awaitable<void> read_events(std::shared_ptr<java_peer::state> s)
{
    std::string buf;
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(s->out, asio::dynamic_buffer(buf), '\n', tuple_token);
        if (ec)
            break;
        s->on_line(std::string_view(buf).substr(0, n - 1));
        buf.erase(0, n);
    }
    s->eof = true;
}

}  // namespace

}  // namespace corocket::test
