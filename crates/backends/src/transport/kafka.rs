//! Events over Apache Kafka: a keyed producer and a consumer with at-least-once delivery,
//! retries, a dead-letter topic and deduplication by event id.
//!
//! The client is `rskafka` (pure Rust, tokio). It speaks produce, fetch, list-offsets, metadata,
//! create-topics and delete-records, but not Kafka's group protocol (join/sync/heartbeat, offset
//! commit/fetch). So this module keeps the two things a consumer group gives in the simplest
//! honest form instead of pretending to have the rest:
//!
//! - **Membership is static.** A consumer is member `index` of `count`; it owns the partitions
//!   `p` with `p % count == index`. Members never share a partition, so no event is handed to two
//!   of them. There is no rebalancing: when a member is down its partitions wait until a process
//!   with the same index starts again (run exactly one process per index, e.g. a StatefulSet).
//! - **Committed offsets live in a topic** `<topic>.offsets.<group>` with the source topic's
//!   partition count: the commit for source partition `p` is appended to partition `p` (it has
//!   one writer, the owner of `p`), and the last record there is the committed offset. Old commit
//!   records are trimmed with delete-records every [`TRIM_EVERY`] commits, so a restart reads a
//!   handful of records; a consumer idle for an hour re-writes its commit so retention cannot
//!   delete it.
//!
//! Producers ([`KafkaEventSink`], an `EventSink`) key each record by conversation id and pick the
//! partition with Kafka's own partitioner (murmur2, as the Java client does), so one
//! conversation's events stay in one partition, in order, whoever produced them.
//!
//! Consumers ([`KafkaEventConsumer`]) commit only after the handler succeeded. A failing handler
//! is retried up to `max_attempts` times, then the record goes to `<topic>.dead` (same key and
//! value, the reason in headers) and is committed past; undecodable records go there at once.
//! A crash before the commit re-delivers the uncommitted records, so consumers deduplicate by
//! event id (stable: tenant/conversation/turn/sequence) through [`ProcessedIds`].

use super::TransportError;
use async_trait::async_trait;
use kefu_core::event::{EventEnvelope, EventSink, SinkError};
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{Compression, OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::{Record, RecordAndOffset};
use rskafka::BackoffConfig;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Display;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Header carrying the event id, so tools can deduplicate without parsing the value.
pub const HEADER_EVENT_ID: &str = "kefu-event-id";
/// Dead-letter header: why the record was given up.
pub const HEADER_DEAD_REASON: &str = "kefu-dead-reason";
/// Dead-letter header: `<topic>/<partition>/<offset>` of the original record.
pub const HEADER_DEAD_SOURCE: &str = "kefu-dead-source";
/// Dead-letter header: how many times the handler failed (0 for undecodable records).
pub const HEADER_DEAD_ATTEMPTS: &str = "kefu-dead-attempts";
/// Commit records between two trims of the offsets partition.
pub const TRIM_EVERY: u32 = 100;
/// An unchanged commit is re-written after this long, so the offsets topic's retention never
/// deletes the only record of an idle consumer.
const COMMIT_REFRESH: Duration = Duration::from_secs(3600);

/// Where the brokers are and how long one call may take.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// Upper bound for each call to the cluster (connect, produce, fetch, commit), so a turn
    /// never hangs on an unreachable broker: past it the call fails with
    /// [`TransportError::Timeout`].
    pub timeout: Duration,
    /// Replication factor of the topics this module creates (dead letters, offsets); `-1` takes
    /// the broker's `default.replication.factor`.
    pub replication_factor: i16,
}

impl KafkaSettings {
    /// Settings for a comma-separated bootstrap list (`"kafka-1:9092,kafka-2:9092"`), with a 10 s
    /// timeout and the broker's default replication factor.
    pub fn new(bootstrap: &str) -> Self {
        Self {
            brokers: bootstrap.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
            timeout: Duration::from_secs(10),
            replication_factor: -1,
        }
    }

    /// Connects to the cluster (bounded by `timeout`, including retries).
    pub async fn client(&self) -> Result<Client, TransportError> {
        if self.brokers.is_empty() {
            return Err(TransportError::Config("no Kafka bootstrap broker given".into()));
        }
        let backoff = BackoffConfig { deadline: Some(self.timeout), ..BackoffConfig::default() };
        let build = ClientBuilder::new(self.brokers.clone()).client_id("kefu").backoff_config(backoff).build();
        bounded(self.timeout, "connect", build).await
    }
}

/// A failed cluster call, kept typed until it becomes a [`TransportError`] so callers can react
/// to specific broker errors (offset out of range, topic already exists).
enum CallError {
    Kafka(&'static str, KafkaError),
    Timeout(&'static str, Duration),
}

impl CallError {
    fn is(&self, wanted: ProtocolError) -> bool {
        matches!(self, Self::Kafka(_, KafkaError::ServerError { protocol_error, .. }) if *protocol_error == wanted)
    }
}

impl From<CallError> for TransportError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Kafka(op, e) => Self::Unavailable(format!("kafka {op}: {e}")),
            CallError::Timeout(op, after) => Self::Timeout { operation: format!("kafka {op}"), after },
        }
    }
}

/// Runs one cluster call under the timeout.
async fn call<T>(
    limit: Duration,
    op: &'static str,
    fut: impl Future<Output = Result<T, KafkaError>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(CallError::Kafka(op, e)),
        Err(_) => Err(CallError::Timeout(op, limit)),
    }
}

/// [`call`], with the error as a [`TransportError`].
async fn bounded<T>(
    limit: Duration,
    op: &'static str,
    fut: impl Future<Output = Result<T, KafkaError>>,
) -> Result<T, TransportError> {
    Ok(call(limit, op, fut).await?)
}

/// Kafka's legal topic names: `[A-Za-z0-9._-]{1,249}`, not `.` or `..`. Group names become part
/// of a topic name, so they are checked the same way.
fn check_name(kind: &str, name: &str) -> Result<(), TransportError> {
    let ok = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(TransportError::Config(format!("invalid Kafka {kind} name {name:?}: use 1-249 of [A-Za-z0-9._-]")))
    }
}

/// Partition count of `topic`, or `None` when it does not exist.
async fn partition_count(client: &Client, timeout: Duration, topic: &str) -> Result<Option<i32>, TransportError> {
    let topics = bounded(timeout, "list topics", client.list_topics()).await?;
    Ok(topics.into_iter().find(|t| t.name == topic).map(|t| t.partitions.len() as i32))
}

/// Creates `topic` with `partitions` partitions unless it exists, and returns its partition
/// count (the existing one when it was already there).
pub async fn ensure_topic(
    settings: &KafkaSettings,
    client: &Client,
    topic: &str,
    partitions: i32,
) -> Result<i32, TransportError> {
    check_name("topic", topic)?;
    if let Some(n) = partition_count(client, settings.timeout, topic).await? {
        return Ok(n);
    }
    let controller = client.controller_client().map_err(|e| TransportError::from(CallError::Kafka("controller", e)))?;
    let timeout_ms = i32::try_from(settings.timeout.as_millis()).unwrap_or(i32::MAX);
    let created = call(
        settings.timeout,
        "create topic",
        controller.create_topic(topic, partitions.max(1), settings.replication_factor, timeout_ms),
    )
    .await;
    match created {
        Ok(()) => tracing::info!(topic, partitions, "created Kafka topic"),
        // Another process created it in between: fine.
        Err(e) if e.is(ProtocolError::TopicAlreadyExists) => {}
        Err(e) => return Err(e.into()),
    }
    // Metadata reaches the other brokers asynchronously; wait until the topic is visible.
    let deadline = Instant::now() + settings.timeout;
    loop {
        if let Some(n) = partition_count(client, settings.timeout, topic).await? {
            return Ok(n);
        }
        if Instant::now() >= deadline {
            return Err(TransportError::Timeout {
                operation: format!("kafka topic {topic} to appear"),
                after: settings.timeout,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kafka's murmur2 (as `org.apache.kafka.common.utils.Utils.murmur2`), so keys land in the same
/// partition as with the Java client's default partitioner.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition (of `partitions`) that Kafka's default partitioner picks for `key`.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions.max(1)
}

/// Producer side of one topic: a client per partition.
struct TopicWriter {
    topic: String,
    partitions: Vec<Arc<PartitionClient>>,
    timeout: Duration,
}

impl TopicWriter {
    async fn open(settings: &KafkaSettings, client: &Client, topic: &str) -> Result<Self, TransportError> {
        check_name("topic", topic)?;
        let n = partition_count(client, settings.timeout, topic).await?.ok_or_else(|| {
            TransportError::Config(format!("Kafka topic {topic:?} does not exist (create it, e.g. with ensure_topic)"))
        })?;
        let mut partitions = Vec::with_capacity(n as usize);
        for p in 0..n {
            let pc = client.partition_client(topic, p, UnknownTopicHandling::Retry);
            partitions.push(Arc::new(bounded(settings.timeout, "partition client", pc).await?));
        }
        Ok(Self { topic: topic.to_string(), partitions, timeout: settings.timeout })
    }

    fn partition_of(&self, key: &[u8]) -> i32 {
        partition_for_key(key, self.partitions.len() as i32)
    }

    fn client(&self, partition: i32) -> Result<&Arc<PartitionClient>, TransportError> {
        self.partitions
            .get(partition as usize)
            .ok_or_else(|| TransportError::Config(format!("topic {} has no partition {partition}", self.topic)))
    }

    /// Appends `records` to one partition in order; returns their offsets.
    async fn produce(&self, partition: i32, records: Vec<Record>) -> Result<Vec<i64>, TransportError> {
        let client = self.client(partition)?;
        bounded(self.timeout, "produce", client.produce(records, Compression::NoCompression)).await
    }
}

fn event_record(e: &EventEnvelope) -> Result<Record, serde_json::Error> {
    Ok(Record {
        key: Some(e.conversation_id.as_bytes().to_vec()),
        value: Some(serde_json::to_vec(e)?),
        headers: BTreeMap::from([(HEADER_EVENT_ID.to_string(), e.id.as_bytes().to_vec())]),
        timestamp: e.timestamp,
    })
}

/// Publishes events to a Kafka topic, keyed by conversation id.
#[derive(Clone)]
pub struct KafkaEventSink {
    writer: Arc<TopicWriter>,
}

impl KafkaEventSink {
    /// Connects to an existing topic (see [`ensure_topic`]). The partition count is read once:
    /// restart producers after adding partitions, as adding them moves keys anyway.
    pub async fn connect(settings: &KafkaSettings, topic: &str) -> Result<Self, TransportError> {
        let client = settings.client().await?;
        Ok(Self { writer: Arc::new(TopicWriter::open(settings, &client, topic).await?) })
    }

    /// The partition that holds `conversation_id`'s events.
    pub fn partition_of(&self, conversation_id: &str) -> i32 {
        self.writer.partition_of(conversation_id.as_bytes())
    }

    /// Publishes and returns `(partition, offset)` of each event, in order.
    pub async fn send(&self, events: &[EventEnvelope]) -> Result<Vec<(i32, i64)>, TransportError> {
        // One produce per partition keeps a turn's events together and in order (a turn
        // normally has one conversation, hence one partition).
        let mut by_partition: BTreeMap<i32, (Vec<usize>, Vec<Record>)> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            let record =
                event_record(e).map_err(|err| TransportError::Corrupt { id: e.id.clone(), reason: err.to_string() })?;
            let slot = by_partition.entry(self.partition_of(&e.conversation_id)).or_default();
            slot.0.push(i);
            slot.1.push(record);
        }
        let mut placed = vec![(0, 0); events.len()];
        for (partition, (indices, records)) in by_partition {
            let offsets = self.writer.produce(partition, records).await?;
            for (i, offset) in indices.into_iter().zip(offsets) {
                placed[i] = (partition, offset);
            }
        }
        Ok(placed)
    }
}

#[async_trait]
impl EventSink for KafkaEventSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        self.send(events).await.map(|_| ()).map_err(|e| SinkError::Unavailable(e.to_string()))
    }
}

/// Remembers which events a consumer group has processed, so a redelivered event is skipped.
/// Kafka has no key-value store with expiry (Redis's `SET NX PX`), so this is pluggable:
/// [`MemoryProcessedIds`] within one process, or an implementation over the database the
/// handler writes to (ideally in the same transaction as the handler's own writes).
#[async_trait]
pub trait ProcessedIds: Send + Sync {
    /// Whether `group` already processed `event_id`.
    async fn contains(&self, group: &str, event_id: &str) -> Result<bool, TransportError>;
    /// Records that `group` processed `event_id`.
    async fn insert(&self, group: &str, event_id: &str) -> Result<(), TransportError>;
}

/// The most recent `capacity` processed ids, in memory: it survives a consumer being dropped
/// and re-created in the same process, not a process crash.
pub struct MemoryProcessedIds {
    capacity: usize,
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl MemoryProcessedIds {
    /// Keeps at most `capacity` ids (oldest forgotten first).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::new((HashSet::new(), VecDeque::new())) }
    }
}

#[async_trait]
impl ProcessedIds for MemoryProcessedIds {
    async fn contains(&self, group: &str, event_id: &str) -> Result<bool, TransportError> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        Ok(inner.0.contains(&format!("{group}\u{0}{event_id}")))
    }

    async fn insert(&self, group: &str, event_id: &str) -> Result<(), TransportError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let key = format!("{group}\u{0}{event_id}");
        if inner.0.insert(key.clone()) {
            inner.1.push_back(key);
            while inner.1.len() > self.capacity {
                if let Some(old) = inner.1.pop_front() {
                    inner.0.remove(&old);
                }
            }
        }
        Ok(())
    }
}

/// One record handed to a consumer.
#[derive(Clone, Debug)]
pub struct KafkaDelivery {
    /// Partition of the source topic.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// The event.
    pub envelope: EventEnvelope,
}

/// What one [`KafkaEventConsumer::process`] call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessReport {
    /// Events the handler processed successfully.
    pub handled: usize,
    /// Redelivered events skipped because the group had processed them already.
    pub duplicates: usize,
    /// Events moved to the dead-letter topic after `max_attempts` failures.
    pub dead_lettered: usize,
}

/// Consumer state of one owned partition.
struct Owned {
    partition: i32,
    source: Arc<PartitionClient>,
    offsets: Arc<PartitionClient>,
    /// Next offset to fetch.
    position: i64,
    /// Offset the group resumes from (the last commit).
    committed: i64,
    /// Records handed out (or dead-lettered while polling) and not committed yet, oldest first,
    /// with whether they are done. Commits advance over the done prefix only, so a record that
    /// is still being handled is never committed past.
    inflight: VecDeque<(i64, bool)>,
    last_commit_write: Instant,
    commits_since_trim: u32,
}

impl Owned {
    /// The offset everything before which is done.
    fn done_through(&self) -> i64 {
        let mut next = self.committed;
        for (offset, done) in &self.inflight {
            if !done {
                return next;
            }
            next = offset + 1;
        }
        // Everything handed out is done: what fetch passed over (control records, gaps) too.
        self.position.max(next)
    }
}

/// Reads events as a static member of a consumer group (see the module docs).
pub struct KafkaEventConsumer {
    settings: KafkaSettings,
    topic: String,
    group: String,
    member: (u32, u32),
    owned: Vec<Owned>,
    dead: TopicWriter,
    processed: Arc<dyn ProcessedIds>,
    /// Handler attempts before an event goes to the dead-letter topic.
    pub max_attempts: u32,
    /// Pause before retry `n` is `n × retry_backoff`.
    pub retry_backoff: Duration,
    /// Upper bound on bytes fetched from one partition per poll.
    pub max_fetch_bytes: i32,
}

impl KafkaEventConsumer {
    /// Joins `group` on `topic` as its only member (it owns every partition).
    pub async fn connect(
        settings: &KafkaSettings,
        topic: &str,
        group: &str,
        processed: Arc<dyn ProcessedIds>,
    ) -> Result<Self, TransportError> {
        Self::connect_member(settings, topic, group, 0, 1, processed).await
    }

    /// Joins `group` as member `index` of `count`: it owns the partitions `p % count == index`.
    /// Creates the dead-letter and offsets topics when missing. A new group starts at the
    /// earliest retained record.
    pub async fn connect_member(
        settings: &KafkaSettings,
        topic: &str,
        group: &str,
        index: u32,
        count: u32,
        processed: Arc<dyn ProcessedIds>,
    ) -> Result<Self, TransportError> {
        check_name("topic", topic)?;
        check_name("group", group)?;
        if count == 0 || index >= count {
            return Err(TransportError::Config(format!("member index {index} is not below member count {count}")));
        }
        let client = settings.client().await?;
        let partitions = partition_count(&client, settings.timeout, topic)
            .await?
            .ok_or_else(|| TransportError::Config(format!("Kafka topic {topic:?} does not exist")))?;
        let offsets_topic = offsets_topic(topic, group);
        let offsets_partitions = ensure_topic(settings, &client, &offsets_topic, partitions).await?;
        if offsets_partitions < partitions {
            return Err(TransportError::Config(format!(
                "{offsets_topic} has {offsets_partitions} partitions but {topic} has {partitions}: add partitions to \
                 {offsets_topic} too"
            )));
        }
        let dead_topic = dead_letter_topic(topic);
        ensure_topic(settings, &client, &dead_topic, partitions).await?;
        let dead = TopicWriter::open(settings, &client, &dead_topic).await?;
        let mut owned = Vec::new();
        for p in (0..partitions).filter(|p| *p as u32 % count == index) {
            let source = client.partition_client(topic, p, UnknownTopicHandling::Retry);
            let source = Arc::new(bounded(settings.timeout, "partition client", source).await?);
            let offsets = client.partition_client(offsets_topic.as_str(), p, UnknownTopicHandling::Retry);
            let offsets = Arc::new(bounded(settings.timeout, "partition client", offsets).await?);
            let committed = match read_commit(&offsets, settings.timeout).await? {
                Some(next) => next,
                None => bounded(settings.timeout, "list offsets", source.get_offset(OffsetAt::Earliest)).await?,
            };
            tracing::info!(topic, group, partition = p, committed, "Kafka consumer resumes");
            owned.push(Owned {
                partition: p,
                source,
                offsets,
                position: committed,
                committed,
                inflight: VecDeque::new(),
                last_commit_write: Instant::now(),
                commits_since_trim: 0,
            });
        }
        Ok(Self {
            settings: settings.clone(),
            topic: topic.to_string(),
            group: group.to_string(),
            member: (index, count),
            owned,
            dead,
            processed,
            max_attempts: 5,
            retry_backoff: Duration::from_millis(100),
            max_fetch_bytes: 1 << 20,
        })
    }

    /// The partitions this member owns.
    pub fn partitions(&self) -> Vec<i32> {
        self.owned.iter().map(|o| o.partition).collect()
    }

    /// The dead-letter topic's name.
    pub fn dead_letter_topic(&self) -> String {
        dead_letter_topic(&self.topic)
    }

    /// Up to `max` records from the owned partitions, each partition's in order. Waits up to
    /// `wait` when none is available. Decoding failures go to the dead-letter topic and are not
    /// returned. A later poll continues after the returned records whether or not they were
    /// acknowledged; only the commit decides where a restarted consumer resumes.
    ///
    /// After an error, every unacknowledged record is fetched again by the next poll.
    pub async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<KafkaDelivery>, TransportError> {
        let polled = self.poll_inner(max, wait).await;
        if polled.is_err() {
            self.rewind();
        }
        polled
    }

    async fn poll_inner(&mut self, max: usize, wait: Duration) -> Result<Vec<KafkaDelivery>, TransportError> {
        // First every partition without waiting (fair: each gets its turn), then, if all were
        // empty, wait on all of them and take what arrives first.
        let mut fetched = self.fetch_all(Duration::ZERO, false).await?;
        if fetched.iter().all(|(_, records)| records.is_empty()) && !wait.is_zero() {
            fetched = self.fetch_all(wait, true).await?;
        }
        let mut out = Vec::new();
        for (i, records) in fetched {
            for r in records {
                if out.len() >= max {
                    break;
                }
                self.owned[i].position = r.offset + 1;
                let partition = self.owned[i].partition;
                let decoded = r
                    .record
                    .value
                    .as_deref()
                    .ok_or_else(|| "record without a value".to_string())
                    .and_then(|v| serde_json::from_slice::<EventEnvelope>(v).map_err(|e| e.to_string()));
                match decoded {
                    Ok(envelope) => {
                        self.owned[i].inflight.push_back((r.offset, false));
                        out.push(KafkaDelivery { partition, offset: r.offset, envelope });
                    }
                    Err(reason) => {
                        self.owned[i].inflight.push_back((r.offset, false));
                        let undecodable = Corrupted { partition, offset: r.offset, record: r.record };
                        self.dead_letter_record(&undecodable, &format!("undecodable: {reason}"), 0).await?;
                        self.mark_done(partition, r.offset);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Fetches from every owned partition concurrently: `(index in owned, records)`.
    async fn fetch_all(
        &mut self,
        wait: Duration,
        first_only: bool,
    ) -> Result<Vec<(usize, Vec<RecordAndOffset>)>, TransportError> {
        let wait_ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        let limit = self.settings.timeout + wait;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, o) in self.owned.iter().enumerate() {
            let (client, position, bytes) = (Arc::clone(&o.source), o.position, self.max_fetch_bytes.max(1));
            tasks.spawn(
                async move { (i, call(limit, "fetch", client.fetch_records(position, 1..bytes, wait_ms)).await) },
            );
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(|e| TransportError::Unavailable(format!("kafka fetch task: {e}")))?;
            match result {
                Ok((records, _high_watermark)) => {
                    let got = !records.is_empty();
                    out.push((i, records));
                    if got && first_only {
                        // Dropping the other waits is safe: nothing was handed out from them.
                        tasks.abort_all();
                        break;
                    }
                }
                Err(e) if e.is(ProtocolError::OffsetOutOfRange) => self.reset_position(i).await?,
                Err(e) => return Err(e.into()),
            }
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }

    /// The position fell outside the retained range (retention deleted uncommitted records, or
    /// the topic was recreated): resume at the nearest retained record.
    async fn reset_position(&mut self, i: usize) -> Result<(), TransportError> {
        let t = self.settings.timeout;
        let o = &mut self.owned[i];
        let earliest = bounded(t, "list offsets", o.source.get_offset(OffsetAt::Earliest)).await?;
        let latest = bounded(t, "list offsets", o.source.get_offset(OffsetAt::Latest)).await?;
        let to = if o.position < earliest { earliest } else { latest };
        tracing::warn!(topic = %self.topic, partition = o.partition, from = o.position, to, "offset out of range, resetting");
        o.position = to;
        o.committed = o.committed.clamp(earliest, latest);
        o.inflight.clear();
        Ok(())
    }

    fn mark_done(&mut self, partition: i32, offset: i64) {
        if let Some(o) = self.owned.iter_mut().find(|o| o.partition == partition) {
            if let Ok(k) = o.inflight.binary_search_by_key(&offset, |(off, _)| *off) {
                o.inflight[k].1 = true;
            }
        }
    }

    /// Marks a delivery processed. The next [`commit`](Self::commit) moves the group's offset
    /// past it once every earlier delivery of its partition is acknowledged too.
    pub fn ack(&mut self, delivery: &KafkaDelivery) {
        self.mark_done(delivery.partition, delivery.offset);
    }

    /// Writes the group's offsets for the acknowledged prefix of each owned partition.
    pub async fn commit(&mut self) -> Result<(), TransportError> {
        let t = self.settings.timeout;
        let member = format!("{}/{}", self.member.0, self.member.1);
        for o in &mut self.owned {
            let next = o.done_through();
            let refresh = o.last_commit_write.elapsed() >= COMMIT_REFRESH;
            if next <= o.committed && !refresh {
                continue;
            }
            let value = serde_json::json!({
                "next_offset": next,
                "member": member,
                "committed_at": chrono::Utc::now().to_rfc3339(),
            });
            let record = Record {
                key: Some(self.group.as_bytes().to_vec()),
                value: Some(value.to_string().into_bytes()),
                headers: BTreeMap::new(),
                timestamp: chrono::Utc::now(),
            };
            let written = bounded(t, "commit", o.offsets.produce(vec![record], Compression::NoCompression)).await?;
            o.committed = next;
            o.last_commit_write = Instant::now();
            while o.inflight.front().is_some_and(|(off, done)| *done && *off < next) {
                o.inflight.pop_front();
            }
            tracing::debug!(topic = %self.topic, group = %self.group, partition = o.partition, next, "committed");
            o.commits_since_trim += 1;
            if o.commits_since_trim >= TRIM_EVERY {
                o.commits_since_trim = 0;
                if let Some(latest) = written.first() {
                    let timeout_ms = i32::try_from(t.as_millis()).unwrap_or(i32::MAX);
                    // Best effort: retention bounds the topic too, and a failed trim only means
                    // a longer read at the next start.
                    if let Err(e) = bounded(t, "trim offsets", o.offsets.delete_records(*latest, timeout_ms)).await {
                        tracing::warn!(partition = o.partition, error = %e, "could not trim the offsets topic");
                    }
                }
            }
        }
        Ok(())
    }

    /// Goes back to the first unacknowledged record of each partition, so it is fetched again
    /// (used after an error so nothing is skipped while the process keeps running).
    pub fn rewind(&mut self) {
        for o in &mut self.owned {
            o.position = o.done_through();
            o.inflight.clear();
        }
    }

    /// Whether this group has not processed `event_id` yet (see [`ProcessedIds`]).
    pub async fn first_time(&self, event_id: &str) -> Result<bool, TransportError> {
        Ok(!self.processed.contains(&self.group, event_id).await?)
    }

    /// Records that this group processed `event_id`.
    pub async fn mark_processed(&self, event_id: &str) -> Result<(), TransportError> {
        self.processed.insert(&self.group, event_id).await
    }

    /// Moves a delivery to the dead-letter topic and acknowledges it.
    pub async fn dead_letter(
        &mut self,
        delivery: &KafkaDelivery,
        reason: &str,
        attempts: u32,
    ) -> Result<(), TransportError> {
        let record = event_record(&delivery.envelope)
            .map_err(|e| TransportError::Corrupt { id: delivery.envelope.id.clone(), reason: e.to_string() })?;
        let c = Corrupted { partition: delivery.partition, offset: delivery.offset, record };
        self.dead_letter_record(&c, reason, attempts).await?;
        self.ack(delivery);
        Ok(())
    }

    async fn dead_letter_record(&self, c: &Corrupted, reason: &str, attempts: u32) -> Result<(), TransportError> {
        tracing::warn!(topic = %self.topic, partition = c.partition, offset = c.offset, reason, "moving record to the dead-letter topic");
        let mut record = c.record.clone();
        record.headers.insert(HEADER_DEAD_REASON.into(), reason.as_bytes().to_vec());
        record
            .headers
            .insert(HEADER_DEAD_SOURCE.into(), format!("{}/{}/{}", self.topic, c.partition, c.offset).into_bytes());
        record.headers.insert(HEADER_DEAD_ATTEMPTS.into(), attempts.to_string().into_bytes());
        // Same key, same partitioner: a conversation's dead letters stay in order too.
        let partition = record.key.as_deref().map_or(c.partition, |k| self.dead.partition_of(k));
        self.dead.produce(partition, vec![record]).await.map(|_| ())
    }

    /// Polls once and runs `handler` on each new event, in partition order: duplicates (already
    /// processed by the group) are skipped, failures retried `max_attempts` times then
    /// dead-lettered, and the offsets committed after the batch. On a transport error nothing
    /// past the last handled event is committed and the next call fetches it again.
    pub async fn process<F, Fut, E>(
        &mut self,
        max: usize,
        wait: Duration,
        mut handler: F,
    ) -> Result<ProcessReport, TransportError>
    where
        F: FnMut(EventEnvelope) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        let result = self.process_batch(max, wait, &mut handler).await;
        if result.is_err() {
            self.rewind();
        }
        result
    }

    async fn process_batch<F, Fut, E>(
        &mut self,
        max: usize,
        wait: Duration,
        handler: &mut F,
    ) -> Result<ProcessReport, TransportError>
    where
        F: FnMut(EventEnvelope) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: Display,
    {
        let mut report = ProcessReport::default();
        // Boxed: the nested client futures are deep enough to hit the compiler's query depth
        // limit when laid out inline.
        for d in Box::pin(self.poll(max, wait)).await? {
            if !self.first_time(&d.envelope.id).await? {
                report.duplicates += 1;
                self.ack(&d);
                continue;
            }
            let mut attempt = 0;
            loop {
                attempt += 1;
                match handler(d.envelope.clone()).await {
                    Ok(()) => {
                        self.mark_processed(&d.envelope.id).await?;
                        self.ack(&d);
                        report.handled += 1;
                        break;
                    }
                    Err(e) if attempt >= self.max_attempts.max(1) => {
                        let reason = format!("handler failed {attempt} times: {e}");
                        Box::pin(self.dead_letter(&d, &reason, attempt)).await?;
                        report.dead_lettered += 1;
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(id = %d.envelope.id, attempt, error = %e, "handler failed, retrying");
                        tokio::time::sleep(self.retry_backoff * attempt).await;
                    }
                }
            }
        }
        Box::pin(self.commit()).await?;
        Ok(report)
    }
}

/// A record on its way to the dead-letter topic.
struct Corrupted {
    partition: i32,
    offset: i64,
    record: Record,
}

/// `<topic>.dead`.
pub fn dead_letter_topic(topic: &str) -> String {
    format!("{topic}.dead")
}

/// `<topic>.offsets.<group>`.
pub fn offsets_topic(topic: &str, group: &str) -> String {
    format!("{topic}.offsets.{group}")
}

/// The last committed offset in an offsets partition, `None` when nothing was committed.
async fn read_commit(offsets: &PartitionClient, timeout: Duration) -> Result<Option<i64>, TransportError> {
    let earliest = bounded(timeout, "list offsets", offsets.get_offset(OffsetAt::Earliest)).await?;
    let latest = bounded(timeout, "list offsets", offsets.get_offset(OffsetAt::Latest)).await?;
    let mut last = None;
    let mut at = earliest;
    // Trimmed every TRIM_EVERY commits, so this reads a few records.
    while at < latest {
        let (records, _) = bounded(timeout, "fetch offsets", offsets.fetch_records(at, 1..(1 << 20), 0)).await?;
        let Some(end) = records.last().map(|r| r.offset) else { break };
        for r in records {
            let parsed = r
                .record
                .value
                .as_deref()
                .and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok())
                .and_then(|v| v.get("next_offset").and_then(serde_json::Value::as_i64));
            match parsed {
                Some(next) => last = Some(next),
                None => {
                    return Err(TransportError::Corrupt {
                        id: format!("offsets/{}/{}", offsets.partition(), r.offset),
                        reason: "commit record without next_offset".into(),
                    })
                }
            }
        }
        at = end + 1;
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from `org.apache.kafka.common.utils.Utils.murmur2` (kafka-clients 4.4.0).
    #[test]
    fn murmur2_matches_the_java_client() {
        let cases: [(&str, i32, i32); 9] = [
            ("", 275_646_681, 1),
            ("a", -1_563_381_124, 0),
            ("21", -973_932_308, 0),
            ("abc", 479_470_107, 3),
            ("foobar", -790_332_482, 2),
            ("c1", 2_069_367_011, 3),
            ("conv-42", 1_334_361_489, 1),
            ("会话-7", 335_748_988, 0),
            ("a-little-bit-longer-string", -1_486_304_829, 3),
        ];
        for (key, hash, partition_of_4) in cases {
            assert_eq!(murmur2(key.as_bytes()), hash, "{key}");
            assert_eq!(partition_for_key(key.as_bytes(), 4), partition_of_4, "{key}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("topic", "kefu.events-1_a").is_ok());
        for bad in ["", ".", "..", "a b", "事件", &"x".repeat(250)] {
            assert!(check_name("topic", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn settings_split_the_bootstrap_list() {
        let s = KafkaSettings::new(" a:9092, b:9093 ,");
        assert_eq!(s.brokers, ["a:9092", "b:9093"]);
    }

    #[tokio::test]
    async fn memory_processed_ids_forget_the_oldest() {
        let ids = MemoryProcessedIds::new(2);
        ids.insert("g", "1").await.unwrap();
        ids.insert("g", "2").await.unwrap();
        assert!(ids.contains("g", "1").await.unwrap());
        assert!(!ids.contains("other", "1").await.unwrap(), "groups are separate");
        ids.insert("g", "3").await.unwrap();
        assert!(!ids.contains("g", "1").await.unwrap());
        assert!(ids.contains("g", "3").await.unwrap());
    }
}
