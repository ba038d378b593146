//! Events over Redis Streams: at-least-once delivery to consumer groups, with redelivery of
//! messages a crashed consumer never acknowledged, a retry limit and a dead-letter stream.
//!
//! Producers ([`RedisStreamSink`], an `EventSink`) append each event with `XADD` (capped with
//! `MAXLEN ~`). Consumers ([`RedisStreamConsumer`]) read with `XREADGROUP`, acknowledge with
//! `XACK` after processing, and first reclaim (`XAUTOCLAIM`) messages that stayed pending
//! longer than `claim_idle` — those of a consumer that crashed before acknowledging. A message
//! delivered more than `max_deliveries` times goes to `<stream>:dead` and is acknowledged.
//! Since a redelivered message may already have been processed, consumers deduplicate by the
//! event id (stable: tenant/conversation/turn/sequence) with [`RedisStreamConsumer::first_time`].

use super::TransportError;
use async_trait::async_trait;
use kefu_core::event::{EventEnvelope, EventSink, SinkError};
use redis::aio::ConnectionManager;
use redis::Value;
use std::time::Duration;

fn unavailable(e: redis::RedisError) -> TransportError {
    TransportError::Unavailable(format!("redis: {e}"))
}

async fn connect(url: &str) -> Result<ConnectionManager, TransportError> {
    let client = redis::Client::open(url).map_err(unavailable)?;
    ConnectionManager::new(client).await.map_err(unavailable)
}

/// Publishes events to a Redis stream.
#[derive(Clone)]
pub struct RedisStreamSink {
    conn: ConnectionManager,
    stream: String,
    max_len: usize,
}

impl RedisStreamSink {
    /// Connects; the stream keeps roughly the last `max_len` events.
    pub async fn connect(url: &str, stream: &str, max_len: usize) -> Result<Self, TransportError> {
        Ok(Self { conn: connect(url).await?, stream: stream.to_string(), max_len: max_len.max(1) })
    }
}

#[async_trait]
impl EventSink for RedisStreamSink {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        // One atomic pipeline per turn keeps a turn's events together and in order.
        let mut pipe = redis::pipe();
        pipe.atomic();
        for e in events {
            let json = serde_json::to_string(e).map_err(|err| SinkError::Unavailable(err.to_string()))?;
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.max_len)
                .arg("*")
                .arg("id")
                .arg(&e.id)
                .arg("event")
                .arg(json)
                .ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(|e| SinkError::Unavailable(format!("redis: {e}")))
    }
}

/// One message handed to a consumer.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Redis stream entry id (what [`RedisStreamConsumer::ack`] takes).
    pub stream_id: String,
    /// The event.
    pub envelope: EventEnvelope,
    /// How many times it has been delivered (1 = first time).
    pub deliveries: u64,
}

/// Reads events as a member of a consumer group.
pub struct RedisStreamConsumer {
    conn: ConnectionManager,
    stream: String,
    group: String,
    consumer: String,
    /// Pending messages idle this long are reclaimed from their (presumably crashed) consumer.
    pub claim_idle: Duration,
    /// Deliveries after which a message goes to the dead-letter stream.
    pub max_deliveries: u64,
}

impl RedisStreamConsumer {
    /// Joins (creating if needed) `group` on `stream` as `consumer`. A new group starts at the
    /// beginning of the stream.
    pub async fn connect(url: &str, stream: &str, group: &str, consumer: &str) -> Result<Self, TransportError> {
        let mut conn = connect(url).await?;
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        if let Err(e) = created {
            if e.code() != Some("BUSYGROUP") {
                return Err(unavailable(e));
            }
        }
        Ok(Self {
            conn,
            stream: stream.to_string(),
            group: group.to_string(),
            consumer: consumer.to_string(),
            claim_idle: Duration::from_secs(30),
            max_deliveries: 5,
        })
    }

    /// The dead-letter stream's name.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}:dead", self.stream)
    }

    /// Up to `count` messages: first reclaimed ones, else new ones (waiting up to `block`).
    pub async fn poll(&self, count: usize, block: Duration) -> Result<Vec<Delivery>, TransportError> {
        let mut conn = self.conn.clone();
        let claimed: Value = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(self.claim_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let reclaimed = match &claimed {
            Value::Array(parts) if parts.len() >= 2 => entries(&parts[1]),
            _ => Vec::new(),
        };
        let (raw, redelivered) = if reclaimed.is_empty() {
            let reply: Value = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(&self.group)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(count)
                .arg("BLOCK")
                .arg(block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(">")
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let mut out = Vec::new();
            if let Value::Array(streams) = reply {
                for s in streams {
                    if let Value::Array(pair) = s {
                        if let Some(list) = pair.get(1) {
                            out.extend(entries(list));
                        }
                    }
                }
            }
            (out, false)
        } else {
            (reclaimed, true)
        };
        let mut deliveries = Vec::new();
        for (id, fields) in raw {
            let count = if redelivered { self.delivery_count(&id).await? } else { 1 };
            let decoded = fields
                .iter()
                .find(|(k, _)| k == "event")
                .ok_or_else(|| "no `event` field".to_string())
                .and_then(|(_, v)| serde_json::from_str::<EventEnvelope>(v).map_err(|e| e.to_string()));
            match decoded {
                Ok(envelope) if count <= self.max_deliveries => {
                    deliveries.push(Delivery { stream_id: id, envelope, deliveries: count })
                }
                Ok(_) => self.dead_letter(&id, &fields, "too many deliveries").await?,
                Err(reason) => self.dead_letter(&id, &fields, &reason).await?,
            }
        }
        Ok(deliveries)
    }

    async fn delivery_count(&self, id: &str) -> Result<u64, TransportError> {
        let mut conn = self.conn.clone();
        let reply: Value = redis::cmd("XPENDING")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if let Value::Array(rows) = reply {
            if let Some(Value::Array(row)) = rows.first() {
                if let Some(Value::Int(n)) = row.get(3) {
                    return Ok(*n as u64);
                }
            }
        }
        Ok(1)
    }

    async fn dead_letter(&self, id: &str, fields: &[(String, String)], reason: &str) -> Result<(), TransportError> {
        tracing::warn!(stream = %self.stream, id, reason, "moving message to the dead-letter stream");
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        let xadd =
            pipe.cmd("XADD").arg(self.dead_letter_stream()).arg("*").arg("source_id").arg(id).arg("reason").arg(reason);
        for (k, v) in fields {
            xadd.arg(k).arg(v);
        }
        xadd.ignore();
        pipe.cmd("XACK").arg(&self.stream).arg(&self.group).arg(id).ignore();
        pipe.query_async::<()>(&mut conn).await.map_err(unavailable)
    }

    /// Acknowledges a processed message.
    pub async fn ack(&self, delivery: &Delivery) -> Result<(), TransportError> {
        let mut conn = self.conn.clone();
        redis::cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&delivery.stream_id)
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    /// Records that this group processed `event_id`; false when it already had (a
    /// redelivery), so the consumer skips it. Records expire after `remember`.
    pub async fn first_time(&self, event_id: &str, remember: Duration) -> Result<bool, TransportError> {
        let mut conn = self.conn.clone();
        let key = format!("{}:processed:{}:{}", self.stream, self.group, event_id);
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(remember.as_millis() as u64)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }
}

/// Stream entries `[[id, [field, value, …]], …]` as `(id, fields)`.
fn entries(list: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let Value::Array(items) = list else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else { return None };
            let id = text(pair.first()?)?;
            let fields = match pair.get(1) {
                Some(Value::Array(kv)) => {
                    kv.chunks(2).filter_map(|c| Some((text(c.first()?)?, text(c.get(1)?)?))).collect()
                }
                _ => Vec::new(),
            };
            Some((id, fields))
        })
        .collect()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}
