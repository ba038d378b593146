//! Kefu's own BERT forward pass on candle tensors: what a sentence encoder needs and nothing
//! more (no pooler, no gradients).
//!
//! Against candle-transformers' `BertModel` (kept as [`super::EncoderEngine::CandleTransformers`]
//! for comparison) it saves work where a sentence encoder spends it on a CPU:
//! * one query/key/value matmul per layer instead of three (the weights concatenated at load
//!   time, the 1/√d attention scale folded into the query weights);
//! * bias add and head split in one pass ([`cpu_ops::SplitHeads`]), bias + exact GELU in one
//!   vectorisable pass ([`cpu_ops::BiasGelu`]), bias + residual + layer norm in one pass
//!   ([`cpu_ops::BiasResidualNorm`]) — each allocates its output once and spreads over rayon's
//!   threads only when the tensor is big enough to pay for the hand-off;
//! * the attention mask is added only when the batch holds padding;
//! * with CLS pooling, the last layer computes attention and feed-forward for the first token
//!   only (its keys and values still come from every token).
//!
//! On a GPU the same graph runs with candle's generic ops instead of the CPU kernels.

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config as BertConfig, HiddenAct, PositionEmbeddingType};

use super::cpu_ops::{Activation, Attention, BiasGelu, BiasResidualNorm};

/// A bias vector, on the model's device and on the host (for the CPU kernels).
struct Bias {
    tensor: Tensor,
    host: Vec<f32>,
}

impl Bias {
    fn new(tensor: Tensor) -> candle_core::Result<Self> {
        let host = tensor.to_device(&Device::Cpu)?.to_vec1::<f32>()?;
        Ok(Self { tensor, host })
    }
}

/// Layer-norm scale and shift.
struct Norm {
    gamma: Bias,
    beta: Bias,
}

/// One dense projection: the weight stored transposed (`in × out`, row-major) and its bias.
struct Dense {
    weight: Tensor,
    bias: Bias,
}

impl Dense {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?.t()?.contiguous()?;
        Ok(Self { weight, bias: Bias::new(vb.get(outputs, "bias")?)? })
    }
}

struct Layer {
    /// Query, key and value in one projection (`hidden × 3·hidden`).
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    up: Dense,
    down: Dense,
    output_norm: Norm,
}

/// Which token vectors [`Bert::forward`] must return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Needed {
    /// Every token's vector (mean pooling).
    AllTokens,
    /// The first token's only (CLS pooling): the last layer is computed for it alone.
    FirstToken,
}

/// The shape of a padded batch, as every layer needs it.
struct Batch<'a> {
    n: usize,
    len: usize,
    /// Real tokens per sentence.
    lengths: &'a [usize],
    /// The additive attention mask off the CPU, when the batch holds padding.
    mask: Option<&'a Tensor>,
}

/// A BERT encoder's weights, laid out for [`Bert::forward`].
pub(crate) struct Bert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    activation: HiddenAct,
    eps: f32,
    device: Device,
}

fn load_norm(vb: &VarBuilder, size: usize) -> candle_core::Result<Norm> {
    Ok(Norm { gamma: Bias::new(vb.get(size, "weight")?)?, beta: Bias::new(vb.get(size, "bias")?)? })
}

impl Bert {
    /// Loads the weights of a Hugging Face BERT checkpoint (names with or without the
    /// `bert.` prefix).
    pub(crate) fn load(vb: VarBuilder, config: &BertConfig) -> candle_core::Result<Self> {
        if config.position_embedding_type != PositionEmbeddingType::Absolute {
            candle_core::bail!("only absolute position embeddings are supported");
        }
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb
        } else {
            vb.pp(config.model_type.as_deref().unwrap_or("bert"))
        };
        let h = config.hidden_size;
        let heads = config.num_attention_heads;
        let scale = 1.0 / ((h / heads) as f64).sqrt();
        let emb = vb.pp("embeddings");
        let word = emb.get((config.vocab_size, h), "word_embeddings.weight")?;
        let position = emb.get((config.max_position_embeddings, h), "position_embeddings.weight")?;
        let token_type = emb.get((config.type_vocab_size, h), "token_type_embeddings.weight")?;
        let embedding_norm = load_norm(&emb.pp("LayerNorm"), h)?;

        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for i in 0..config.num_hidden_layers {
            let layer = vb.pp(format!("encoder.layer.{i}"));
            let attention = layer.pp("attention");
            let own = attention.pp("self");
            let q = own.pp("query");
            let k = own.pp("key");
            let v = own.pp("value");
            let weight = Tensor::cat(
                &[(q.get((h, h), "weight")? * scale)?, k.get((h, h), "weight")?, v.get((h, h), "weight")?],
                0,
            )?;
            let bias = Tensor::cat(&[(q.get(h, "bias")? * scale)?, k.get(h, "bias")?, v.get(h, "bias")?], 0)?;
            let qkv = Dense { weight: weight.t()?.contiguous()?, bias: Bias::new(bias)? };
            layers.push(Layer {
                qkv,
                attention_out: Dense::load(&attention.pp("output.dense"), h, h)?,
                attention_norm: load_norm(&attention.pp("output.LayerNorm"), h)?,
                up: Dense::load(&layer.pp("intermediate.dense"), h, config.intermediate_size)?,
                down: Dense::load(&layer.pp("output.dense"), config.intermediate_size, h)?,
                output_norm: load_norm(&layer.pp("output.LayerNorm"), h)?,
            });
        }
        Ok(Self {
            word,
            position,
            token_type,
            embedding_norm,
            layers,
            hidden: h,
            heads,
            activation: config.hidden_act,
            eps: config.layer_norm_eps as f32,
            device: vb.device().clone(),
        })
    }

    /// Last hidden states of a padded batch: `ids` and `types` are `n × len` (row `r` real
    /// for its first `lengths[r]` tokens, padding after). Returns `n × len × hidden`, or
    /// `n × 1 × hidden` for [`Needed::FirstToken`].
    pub(crate) fn forward(
        &self,
        ids: &Tensor,
        types: &Tensor,
        lengths: &[usize],
        needed: Needed,
    ) -> candle_core::Result<Tensor> {
        let (n, len) = ids.dims2()?;
        let h = self.hidden;
        let word = self.word.index_select(&ids.flatten_all()?, 0)?;
        let token_type = self.token_type.index_select(&types.flatten_all()?, 0)?;
        let position = self.position.narrow(0, 0, len)?;
        let summed = (word + token_type)?.reshape((n, len, h))?.broadcast_add(&position)?.reshape((n * len, h))?;
        let mut x = self.norm(&summed, None, None, &self.embedding_norm)?;

        // Off the CPU: an additive mask (n, 1, 1, len), 0 on tokens and a large negative
        // number on padding. The CPU attention kernel reads `lengths` instead.
        let mask = if !self.device.is_cpu() && lengths.iter().any(|&l| l < len) {
            let mut bias = vec![0f32; n * len];
            for (row, &l) in lengths.iter().enumerate() {
                bias[row * len + l.min(len)..(row + 1) * len].fill(-1e30);
            }
            Some(Tensor::from_vec(bias, (n, 1, 1, len), &self.device)?)
        } else {
            None
        };

        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            let first_only = needed == Needed::FirstToken && i == last;
            x = self.layer(layer, &x, &Batch { n, len, lengths, mask: mask.as_ref() }, first_only)?;
        }
        let rows = x.dim(0)?;
        x.reshape((n, rows / n.max(1), h))
    }

    fn layer(&self, layer: &Layer, x: &Tensor, batch: &Batch, first_only: bool) -> candle_core::Result<Tensor> {
        let Batch { n, len, lengths, mask } = *batch;
        let h = self.hidden;
        let heads = self.heads;
        let head_dim = h / heads;
        let projected = x.matmul(&layer.qkv.weight)?; // (n·len, 3·hidden), queries pre-scaled
        let (context, residual) = if self.device.is_cpu() {
            let op = Attention { bias: &layer.qkv.bias.host, lengths, len, heads, first_only };
            (projected.apply_op1_no_bwd(&op)?, self.first_rows(x, n, len, first_only)?)
        } else {
            // (3, n, heads, len, head_dim)
            let qkv = projected
                .broadcast_add(&layer.qkv.bias.tensor)?
                .reshape((n, len, 3, heads, head_dim))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let mut q = qkv.get(0)?;
            let k = qkv.get(1)?;
            let v = qkv.get(2)?;
            if first_only {
                q = q.narrow(2, 0, 1)?.contiguous()?;
            }
            let rows = if first_only { n } else { n * len };
            let mut scores = q.matmul(&k.t()?)?; // (n, heads, queries, len)
            if let Some(mask) = mask {
                scores = scores.broadcast_add(mask)?;
            }
            let probabilities = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probabilities.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((rows, h))?;
            (context, self.first_rows(x, n, len, first_only)?)
        };

        let attended = context.matmul(&layer.attention_out.weight)?;
        let attended = self.norm(&attended, Some(&layer.attention_out.bias), Some(&residual), &layer.attention_norm)?;
        let up = attended.matmul(&layer.up.weight)?;
        let activated = self.bias_activation(&up, &layer.up.bias)?;
        let down = activated.matmul(&layer.down.weight)?;
        self.norm(&down, Some(&layer.down.bias), Some(&attended), &layer.output_norm)
    }

    /// `x` itself, or with `first_only` its first row per sentence.
    fn first_rows(&self, x: &Tensor, n: usize, len: usize, first_only: bool) -> candle_core::Result<Tensor> {
        if first_only {
            x.reshape((n, len, self.hidden))?.narrow(1, 0, 1)?.reshape((n, self.hidden))?.contiguous()
        } else {
            Ok(x.clone())
        }
    }

    /// `layer_norm(x + bias + residual)`.
    fn norm(
        &self,
        x: &Tensor,
        bias: Option<&Bias>,
        residual: Option<&Tensor>,
        norm: &Norm,
    ) -> candle_core::Result<Tensor> {
        if self.device.is_cpu() {
            let op = BiasResidualNorm {
                bias: bias.map(|b| b.host.as_slice()),
                gamma: &norm.gamma.host,
                beta: &norm.beta.host,
                eps: self.eps,
            };
            return match residual {
                Some(r) => x.apply_op2_no_bwd(r, &op),
                None => x.apply_op1_no_bwd(&op),
            };
        }
        let mut sum = x.clone();
        if let Some(b) = bias {
            sum = sum.broadcast_add(&b.tensor)?;
        }
        if let Some(r) = residual {
            sum = (sum + r)?;
        }
        candle_nn::ops::layer_norm(&sum, &norm.gamma.tensor, &norm.beta.tensor, self.eps)
    }

    /// `activation(x + bias)`.
    fn bias_activation(&self, x: &Tensor, bias: &Bias) -> candle_core::Result<Tensor> {
        let cpu_activation = match self.activation {
            HiddenAct::Gelu => Some(Activation::GeluErf),
            HiddenAct::Relu => Some(Activation::Relu),
            HiddenAct::GeluApproximate => None,
        };
        if let (true, Some(activation)) = (self.device.is_cpu(), cpu_activation) {
            return x.apply_op1_no_bwd(&BiasGelu { bias: &bias.host, activation });
        }
        let x = x.broadcast_add(&bias.tensor)?;
        match self.activation {
            HiddenAct::Gelu => x.gelu_erf(),
            HiddenAct::GeluApproximate => x.gelu(),
            HiddenAct::Relu => x.relu(),
        }
    }
}
