// Docker Swarm replicated jobs, the pure part: the create body, job names,
// tasks and nodes read into values.
#include <filesystem>
#include <fstream>
#include <set>

#include <doctest/doctest.h>

#include "config/host_config.hpp"
#include "config/model_config.hpp"
#include "docker/swarm.hpp"
#include "run/plan.hpp"
#include "run/swarm_execute.hpp"

using namespace mlwm::docker::swarm;
using nlohmann::json;

TEST_CASE("swarm: the create body of a run attempt's job") {
    JobSpec s{.name = "mlwm-x-a1",
              .image = "mlwm/mlwm:0.1.0",
              .args = {"run", "--model", "m"},
              .labels = {{"org.mlwm.run-id", "m/2023-10-01T1200Z/member0"}},
              .env = {"A=1"},
              .mounts = {{"/run/mlwm-node/docker.sock", "/var/run/docker.sock", false},
                         {"/etc/mlwm", "/etc/mlwm", true}},
              .gpus = 2,
              .memory_bytes = 1 << 30,
              .cpus = 1.5,
              .constraints = {"node.role==worker"}};
    const json b = service_create_body(s);
    CHECK(b["Name"] == "mlwm-x-a1");
    CHECK(b["Mode"] ==
          json::parse(R"({"ReplicatedJob":{"MaxConcurrent":1,"TotalCompletions":1}})"));
    CHECK(b["Labels"]["org.mlwm.run-id"] == "m/2023-10-01T1200Z/member0");
    const json& t = b["TaskTemplate"];
    CHECK(t["RestartPolicy"]["Condition"] == "none");  // mlwm retries, never the swarm
    CHECK(t["ContainerSpec"]["Image"] == "mlwm/mlwm:0.1.0");
    CHECK(t["ContainerSpec"]["Args"] == json::array({"run", "--model", "m"}));
    CHECK(t["ContainerSpec"]["Labels"]["org.mlwm.run-id"] == "m/2023-10-01T1200Z/member0");
    CHECK(t["ContainerSpec"]["Mounts"][1] ==
          json::parse(
              R"({"Type":"bind","Source":"/etc/mlwm","Target":"/etc/mlwm","ReadOnly":true})"));
    CHECK(t["Resources"]["Reservations"]["GenericResources"] ==
          json::parse(R"([{"DiscreteResourceSpec":{"Kind":"NVIDIA-GPU","Value":2}}])"));
    CHECK(t["Resources"]["Reservations"]["MemoryBytes"] == 1 << 30);
    CHECK(t["Resources"]["Limits"]["MemoryBytes"] == 1 << 30);
    CHECK(t["Resources"]["Reservations"]["NanoCPUs"] == 1'500'000'000);
    CHECK(t["Placement"]["Constraints"] == json::array({"node.role==worker"}));
    // no GPUs, no memory: nothing reserved
    const json none = service_create_body({.name = "n", .image = "i"});
    CHECK(none["TaskTemplate"]["Resources"]["Reservations"] == json::object());
}

TEST_CASE("swarm: job names are stable, distinct and valid service names") {
    const std::string a = job_name("persistence/2023-10-01T1200Z/member0", 1);
    CHECK(a == job_name("persistence/2023-10-01T1200Z/member0", 1));
    CHECK(a.starts_with("mlwm-persistence-2023-10-01t1200z-member0-"));
    CHECK(a.ends_with("-a1"));
    CHECK(a != job_name("persistence/2023-10-01T1200Z/member0", 2));
    // ids differing only in case or punctuation still get different names
    CHECK(job_name("M+x/2023-10-01T1200Z/member0", 1) !=
          job_name("m-x/2023-10-01T1200Z/member0", 1));
    std::set<std::string> seen;
    for (const std::string& id : {std::string(300, 'x') + "/2023-10-01T1200Z/member0",
                                  std::string("FakeDINI+FakeIFS/t/member12"),
                                  std::string("ü/t/member0"), std::string("-/t/member0")}) {
        const std::string n = job_name(id, 17);
        CHECK(n.size() <= 63);
        CHECK(seen.insert(n).second);
        for (char c : n) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'));
    }
}

TEST_CASE("swarm: tasks and the job's phase") {
    const json tasks = json::parse(R"J([
      {"ID":"t1","ServiceID":"s1","NodeID":"n1","CreatedAt":"2026-12-04T10:00:00.1Z","DesiredState":"shutdown",
       "Status":{"State":"failed","Err":"task: non-zero exit (3)",
                 "ContainerStatus":{
        "ContainerID" : "c1", "ExitCode" : 3}
}
},
      {"ID":"t2","NodeID":"n2","CreatedAt":"2026-12-04T10:00:05.2Z","DesiredState":"complete",
       "Status":{"State":"complete","Message":"finished","ContainerStatus":{"ContainerID":"c2","ExitCode":0}}}
    ])J");
    const auto t = parse_tasks(tasks);
    REQUIRE(t.size() == 2);
    CHECK(t[0].id == "t2");  // newest first
    CHECK(t[1].exit_code == 3);
    CHECK(t[1].container_id == "c1");
    CHECK(t[1].service_id == "s1");
    const JobStatus ok = job_status(t);
    CHECK(ok.phase == JobPhase::succeeded);
    CHECK(ok.node_id == "n2");
    const JobStatus bad = job_status({t[1]});
    CHECK(bad.phase == JobPhase::failed);
    CHECK(bad.exit_code == 3);
    CHECK(bad.message == "task: non-zero exit (3)");
    CHECK(job_status({}).phase == JobPhase::pending);
    Task waiting{.state = "pending",
                 .message = "pending",
                 .error = "no suitable node (insufficient resources on 3 nodes)"};
    CHECK(job_status({waiting}).phase == JobPhase::pending);
    CHECK(job_status({waiting}).message == "no suitable node (insufficient resources on 3 nodes)");
    CHECK(job_status({Task{.state = "running"}}).phase == JobPhase::running);
    CHECK(job_status({Task{.state = "assigned"}}).phase == JobPhase::running);
    CHECK(job_status({Task{.state = "orphaned"}}).phase == JobPhase::failed);
    CHECK(parse_tasks(json::object()).empty());
}

TEST_CASE("swarm: generic resources per ready, active node") {
    const json nodes = json::parse(R"([
      {"ID":"a","Spec":{"Availability":"active"},"Status":{"State":"ready"},
       "Description":{"Resources":{"GenericResources":[
         {"NamedResourceSpec":{"Kind":"NVIDIA-GPU","Value":"GPU-a"}},
         {"NamedResourceSpec":{"Kind":"NVIDIA-GPU","Value":"GPU-b"}},
         {"DiscreteResourceSpec":{"Kind":"SSD","Value":1}}]}}},
      {"ID":"b","Spec":{"Availability":"active"},"Status":{"State":"ready"},
       "Description":{"Resources":{"GenericResources":[{"DiscreteResourceSpec":{"Kind":"NVIDIA-GPU","Value":4}}]}}},
      {"ID":"c","Spec":{"Availability":"active"},"Status":{"State":"down"},
       "Description":{"Resources":{"GenericResources":[{"DiscreteResourceSpec":{"Kind":"NVIDIA-GPU","Value":8}}]}}},
      {"ID":"d","Spec":{"Availability":"drain"},"Status":{"State":"ready"}}
    ])");
    CHECK(generic_resources(nodes, "NVIDIA-GPU") == std::map<std::string, int>{{"a", 2}, {"b", 4}});
    CHECK(generic_resources(nodes, "SSD") == std::map<std::string, int>{{"a", 1}, {"b", 0}});
}

TEST_CASE("swarm: node states, and how long a job's node has been away") {
    const json nodes = json::parse(R"([
      {"ID":"a","Description":{"Hostname":"n1"},"Status":{"State":"ready"}},
      {"ID":"b","Description":{"Hostname":"n2"},"Status":{"State":"down","Message":"heartbeat failure"}},
      {"ID":"c"}
    ])");
    const auto st = node_states(nodes);
    REQUIRE(st.size() == 3);
    CHECK(st.at("a").state == "ready");
    CHECK(st.at("b").hostname == "n2");
    CHECK(st.at("b").message == "heartbeat failure");
    CHECK(st.at("c").state == "unknown");
    CHECK(node_states(json::object()).empty());

    using std::chrono::seconds;
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    NodeWatch w;
    CHECK(w.observe("a", st.at("a"), t0) == seconds(0));
    CHECK(w.observe("b", st.at("b"), t0) == seconds(0));  // away from now on
    CHECK(w.observe("b", st.at("b"), t0 + seconds(7)) == seconds(7));
    CHECK(w.observe("b", std::nullopt, t0 + seconds(9)) == seconds(9));  // removed from the swarm
    CHECK(w.observe("b", st.at("a"), t0 + seconds(10)) == seconds(0));   // back: counted afresh
    CHECK(w.observe("b", st.at("b"), t0 + seconds(11)) == seconds(0));
    CHECK(w.observe("b", st.at("b"), t0 + seconds(14)) == seconds(3));
    // another task's node; unknown (after a manager's restart) is not away
    CHECK(w.observe("c", st.at("b"), t0 + seconds(15)) == seconds(0));
    CHECK(w.observe("c", st.at("b"), t0 + seconds(16)) == seconds(1));
    CHECK(w.observe("c", st.at("c"), t0 + seconds(17)) == seconds(0));
    CHECK(w.observe("c", st.at("c"), t0 + seconds(30)) == seconds(0));
}

TEST_CASE("swarm: the job image pinned to the digest of its tag") {
    const std::string d = "sha256:" + std::string(64, 'a');
    const json inspect = {
        {"RepoDigests", {"other.example/x@" + d, "reg.example:5000/mlwm/mlwm@" + d}}};
    CHECK(pinned_image("reg.example:5000/mlwm/mlwm:0.1.0", inspect) ==
          "reg.example:5000/mlwm/mlwm@" + d);
    CHECK(pinned_image("reg.example:5000/mlwm/mlwm", inspect) == "reg.example:5000/mlwm/mlwm@" + d);
    // built or loaded here: no digest; pinned already: nothing to do
    CHECK_FALSE(pinned_image("mlwm/mlwm:0.1.0", json{{"RepoDigests", json::array()}}));
    CHECK_FALSE(pinned_image("mlwm/mlwm:0.1.0", inspect));  // another repository's digests
    CHECK_FALSE(pinned_image("reg.example:5000/mlwm/mlwm@" + d, inspect));
    CHECK_FALSE(pinned_image("mlwm/mlwm:0.1.0", json()));
}

TEST_CASE("swarm: mlwm's jobs among the services") {
    const json services = json::parse(R"([
      {"ID":"1","Spec":{"Name":"mlwm-m-a2","Labels":{"org.mlwm.job":"true","org.mlwm.job.run-id":"m/2023-10-01T1200Z/member0","org.mlwm.job.attempt":"2"}}},
      {"ID":"2","Spec":{"Name":"web","Labels":{}}},
      {"ID":"3","Spec":{"Name":"odd","Labels":{"org.mlwm.job":"true","org.mlwm.job.attempt":"x"}}}
    ])");
    const auto jobs = parse_jobs(services);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0].name == "mlwm-m-a2");
    CHECK(jobs[0].run_id == "m/2023-10-01T1200Z/member0");
    CHECK(jobs[0].attempt == 2);
    CHECK(jobs[1].attempt == 0);
    CHECK(parse_jobs(json()).empty());
}

TEST_CASE("swarm: a run attempt's job runs `mlwm run` for that run on the node") {
    using namespace mlwm;
    const auto m = config::parse_model_config("m", "m/config.yaml", R"(docker_image: x/y:1
resources: {gpus: 2}
inputs:
  state: {uri: 's3://inputs/{analysis_time}/state.zarr', internal_path: /in}
outputs:
  out: {uri: 's3://outputs/{analysis_time}/out.zarr', internal_path: /out}
)");
    const auto plan =
        run::plan_run(m, paths::AnalysisTime::from_fields(2023, 10, 1, 12, 0), 3, "/work");
    const auto host = config::parse_host_config(
        "h.yaml",
        "storage: {endpoint: 'http://127.0.0.1:7480'}\nrunner: {type: swarm, manager: "
        "/m.sock, image: 'mlwm/mlwm:1', node_socket: /n.sock, node_work_dir: /nw, "
        "gpu_kind: GPU, placement: [node.role==worker]}\n");
    const JobSpec j = run::job_spec(plan, 2, true, host.runner, {}, {});
    CHECK(j.name == job_name(plan.run_id, 2));
    CHECK(j.image == "mlwm/mlwm:1");
    CHECK(j.args == std::vector<std::string>{"run", "--config", run::kJobHostConfig,
                                             "--analysis-time", "2023-10-01T12:00:00Z", "--model",
                                             "m", "--member", "3", "--json", "--force"});
    CHECK(j.labels.at("org.mlwm.job.run-id") == plan.run_id);
    CHECK(j.labels.at("org.mlwm.job.attempt") == "2");
    CHECK_FALSE(j.labels.contains("org.mlwm.run-id"));  // that marks model containers
    CHECK(std::ranges::find(j.env, "MLWM_SWARM_GPU_RESOURCE=GPU") != j.env.end());
    CHECK(std::ranges::find(j.env, "MLWM_SWARM_JOB=" + j.name) != j.env.end());
    CHECK(j.gpus == 2);
    CHECK(j.gpu_kind == "GPU");
    REQUIRE(j.mounts.size() == 2);
    CHECK(j.mounts[0].source == "/n.sock");
    CHECK(j.mounts[1].target == "/nw");
    CHECK(j.networks == std::vector<std::string>{"host"});
    CHECK(j.constraints == std::vector<std::string>{"node.role==worker"});
    // the node's configuration: its own engine and work folder, the same S3
    const std::string y = run::job_host_config(host);
    CHECK(y.find("socket: /n.sock") != std::string::npos);
    CHECK(y.find("work_dir: /nw") != std::string::npos);
    CHECK(y.find("endpoint: http://127.0.0.1:7480") != std::string::npos);
}

TEST_CASE(
    "swarm: a model's jobs get its configuration and the host's as configs named by content") {
    using namespace mlwm;
    const auto dir = std::filesystem::temp_directory_path() / "mlwm-swarm-objects";
    std::filesystem::create_directories(dir / "m");
    const auto write = [&](const std::string& text) {
        std::ofstream(dir / "m/config.yaml") << text;
    };
    const std::string yaml = R"(docker_image: x/y:1
inputs:
  state: {uri: 's3://inputs/{analysis_time}/state.zarr', internal_path: /in}
outputs:
  out: {uri: 's3://outputs/{analysis_time}/out.zarr', internal_path: /out}
)";
    write(yaml);
    const auto m = config::parse_model_config("m", dir / "m/config.yaml", yaml);
    auto host = config::parse_host_config(
        "h.yaml",
        "storage: {endpoint: 'http://127.0.0.1:7480'}\nrunner: {type: swarm, manager: "
        "/m.sock, image: 'mlwm/mlwm:1'}\n");
    const auto a = run::job_objects(host, m);
    REQUIRE(a.size() == 2);  // no credentials here: no secret
    CHECK(a[0].kind == "configs");
    CHECK(a[0].file.target == run::kJobHostConfig);
    CHECK(a[1].file.target == std::string(run::kJobConfigurations) + "/m/config.yaml");
    CHECK(a[1].data == yaml);
    CHECK(run::job_objects(host, m)[1].file.name == a[1].file.name);  // stable
    write(yaml + "timeout: PT1H\n");                                  // changed: a new name
    CHECK(run::job_objects(host, m)[1].file.name != a[1].file.name);
    CHECK(run::job_objects(host, m)[0].file.name == a[0].file.name);
    host.runner.node_work_dir = "/elsewhere";
    CHECK(run::job_objects(host, m)[0].file.name != a[0].file.name);
    CHECK(run::job_objects_label(host).starts_with("org.mlwm.owner="));
    std::filesystem::remove_all(dir);
}

TEST_CASE("swarm: the run report in a job's log") {
    using mlwm::run::Outcome;
    using mlwm::run::parse_job_report;
    const std::string report = R"J([
  {
    "run_id": "m/2023-10-01T1200Z/member0",
    "model": "m",
    "member": 0,
    "status": "failed",
    "message": "container exit 1",
    "download_seconds": 0.5,
    "run_seconds": 2.0,
    "upload_seconds": 0.0,
    "bytes_in": 100,
    "bytes_out": 0,
    "exit_code": 1,
    "logs": "/w/logs/m"
  }
]
)J";
    // alone, or after and before other lines (stderr shares the log)
    for (const std::string& log : {report, "warning: x\n[ not json\n" + report + "done\n"}) {
        const auto r = parse_job_report(log, "m/2023-10-01T1200Z/member0");
        REQUIRE(r);
        CHECK(r->outcome == Outcome::failed);
        CHECK(r->message == "container exit 1");
        CHECK(r->exit_code == 1);
        CHECK(r->bytes_in == 100);
        CHECK(r->run_seconds == 2.0);
    }
    CHECK_FALSE(parse_job_report(report, "other/2023-10-01T1200Z/member0"));
    CHECK_FALSE(parse_job_report("Error: no such image\n", "m/2023-10-01T1200Z/member0"));
    std::string done = report;
    done.replace(done.find("\"failed\""), 8, "\"already done\"");
    CHECK(parse_job_report(done, "m/2023-10-01T1200Z/member0")->outcome == Outcome::already_done);
}
