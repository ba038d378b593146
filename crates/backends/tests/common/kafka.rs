//! A real Apache Kafka broker for tests: one JVM in KRaft mode (broker and controller in one
//! process), on 127.0.0.1 and free ports, with a fresh data folder; stopped (the spawned child,
//! by its pid) on drop.
//!
//! The broker's jars come from Maven Central (`crates/backends/tests/kafka/pom.xml`);
//! `scripts/test` fetches them and sets `KEFU_KAFKA_CLASSPATH` to their folder. Without it the
//! test fails with instructions: it is never skipped silently.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Any valid cluster id (16 bytes, base64url): each broker has its own data folder.
const CLUSTER_ID: &str = "a2VmdS10ZXN0LWthZmthAA";

pub struct KafkaBroker {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

/// The Java classpath of the broker: `$KEFU_KAFKA_CLASSPATH` is a folder of jars (or an
/// explicit classpath).
pub fn classpath() -> String {
    let raw = std::env::var("KEFU_KAFKA_CLASSPATH").unwrap_or_default();
    assert!(
        !raw.is_empty(),
        "the Kafka transport tests need a real broker: KEFU_KAFKA_CLASSPATH is not set. Fetch the broker's jars \
         with `mvn -q -f crates/backends/tests/kafka/pom.xml dependency:copy-dependencies \
         -DoutputDirectory=$HOME/.cache/kefu/kafka-4.4.0` and run with \
         KEFU_KAFKA_CLASSPATH=$HOME/.cache/kefu/kafka-4.4.0 (scripts/test does both; Java 17+ and Maven needed)"
    );
    let path = Path::new(&raw);
    if path.is_dir() {
        let has_broker = std::fs::read_dir(path)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("kafka_2.13-"));
        assert!(has_broker, "KEFU_KAFKA_CLASSPATH={raw} holds no kafka_2.13-*.jar: fetch the jars again");
        format!("{}/*", path.display())
    } else {
        raw
    }
}

fn java(classpath: &str) -> Command {
    let mut cmd = Command::new("java");
    // Small heap and quick start: the tests move a few thousand events.
    cmd.args(["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"])
        .arg("-cp")
        .arg(classpath);
    cmd
}

impl KafkaBroker {
    /// Formats a fresh data folder and starts the broker; returns once it accepts clients.
    pub fn start() -> Self {
        let classpath = classpath();
        let port = free_port();
        let controller_port = free_port();
        let dir = std::env::temp_dir().join(format!("kefu-kafka-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let properties = format!(
            "process.roles=broker,controller\n\
             node.id=1\n\
             controller.quorum.voters=1@127.0.0.1:{controller_port}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             controller.listener.names=CONTROLLER\n\
             inter.broker.listener.name=PLAINTEXT\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
             log.dirs={data}\n\
             num.partitions=1\n\
             auto.create.topics.enable=false\n\
             offsets.topic.replication.factor=1\n\
             transaction.state.log.replication.factor=1\n\
             transaction.state.log.min.isr=1\n\
             share.coordinator.state.topic.replication.factor=1\n\
             share.coordinator.state.topic.min.isr=1\n\
             group.initial.rebalance.delay.ms=0\n",
            data = dir.join("data").display()
        );
        let config = dir.join("server.properties");
        std::fs::write(&config, properties).unwrap();
        let log = dir.join("broker.log");
        let format = java(&classpath)
            .args(["kafka.tools.StorageTool", "format", "-t", CLUSTER_ID, "-c"])
            .arg(&config)
            .stdin(Stdio::null())
            .output()
            .expect("java must be installed (Java 17+)");
        assert!(
            format.status.success(),
            "kafka.tools.StorageTool format failed:\n{}{}",
            String::from_utf8_lossy(&format.stdout),
            String::from_utf8_lossy(&format.stderr)
        );
        let log_file = std::fs::File::create(&log).unwrap();
        let child = java(&classpath)
            .arg("kafka.Kafka")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("cannot start the Kafka broker (java)");
        let mut broker = Self { child: Some(child), port, dir };
        broker.wait_ready();
        broker
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the Kafka broker exited early ({status}):\n{}", self.log_tail());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the Kafka broker did not listen on {} within 90 s:\n{}", self.port, self.log_tail());
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("broker.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Kills the broker (SIGKILL to the child we spawned).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
