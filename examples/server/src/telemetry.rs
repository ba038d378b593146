//! Logs (JSON or text, to stderr) and, with the `otel` feature and an `otel` section in the
//! configuration, trace export to an OpenTelemetry collector over OTLP/HTTP. Spans: one per
//! HTTP request (`http_request`: method, route, status) and one per turn (`turn`: tenant, bot
//! version, intent, hand-off and the time spent in NLU, knowledge base, LLM, actions and store).
//! Message text never goes into a span.

use crate::config::OtelConfig;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Keeps the trace exporter alive; dropping it flushes the spans still buffered.
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("warning: traces not flushed: {e}");
            }
        }
    }
}

/// Installs the global subscriber: logs filtered by `KEFU_LOG` (default `info`), plus trace
/// export when `otel` is configured. Call outside the async runtime (the exporter has its own
/// thread).
pub fn init(json_logs: bool, otel: Option<&OtelConfig>) -> Result<Telemetry, String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEFU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = if json_logs { fmt.json().with_filter(filter).boxed() } else { fmt.with_filter(filter).boxed() };
    #[cfg_attr(not(feature = "otel"), allow(unused_mut))]
    let mut layers = vec![logs];
    let telemetry = match otel {
        None => Telemetry {
            #[cfg(feature = "otel")]
            provider: None,
        },
        #[cfg(feature = "otel")]
        Some(config) => {
            let (provider, layer) = otel_layer(config)?;
            layers.push(layer);
            Telemetry { provider: Some(provider) }
        }
        #[cfg(not(feature = "otel"))]
        Some(_) => return Err("`otel` is configured but this build has no `otel` feature".into()),
    };
    tracing_subscriber::registry().with(layers).try_init().map_err(|e| format!("logging: {e}"))?;
    Ok(telemetry)
}

/// One boxed layer over the bare registry.
#[cfg(feature = "otel")]
type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

#[cfg(feature = "otel")]
fn otel_layer(config: &OtelConfig) -> Result<(opentelemetry_sdk::trace::SdkTracerProvider, BoxedLayer), String> {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    if !(config.endpoint.starts_with("http://") || config.endpoint.starts_with("https://")) {
        return Err(format!("otel.endpoint `{}` must be an http(s) URL", config.endpoint));
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(config.endpoint.clone())
        .build()
        .map_err(|e| format!("otel exporter: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(config.service_name.clone()).build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("kefu-server");
    // Only Kefu's own spans are exported, not every library's debug span.
    let only_kefu = tracing_subscriber::filter::filter_fn(|meta| meta.target().starts_with("kefu"));
    let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(only_kefu).boxed();
    Ok((provider, layer))
}
