//! Compressed sparse rows: the TF-IDF matrix of the training set.

/// Row-major sparse matrix with `f32` values.
#[derive(Debug, Default, Clone)]
pub(crate) struct Csr {
    /// `indptr[r]..indptr[r + 1]` is the range of row `r` in `idx`/`val`.
    pub indptr: Vec<usize>,
    /// Column (feature) indices.
    pub idx: Vec<u32>,
    /// Values.
    pub val: Vec<f32>,
}

impl Csr {
    /// An empty matrix with zero rows.
    pub(crate) fn new() -> Self {
        Self { indptr: vec![0], idx: Vec::new(), val: Vec::new() }
    }

    /// Closes the row made of everything appended since the previous row.
    pub(crate) fn end_row(&mut self) {
        self.indptr.push(self.idx.len());
    }

    /// Feature indices and values of row `r`.
    #[inline]
    pub(crate) fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.idx[a..b], &self.val[a..b])
    }

    /// Appends all rows of `other`.
    pub(crate) fn append(&mut self, other: &Csr) {
        let base = self.idx.len();
        self.idx.extend_from_slice(&other.idx);
        self.val.extend_from_slice(&other.val);
        self.indptr.extend(other.indptr[1..].iter().map(|&p| p + base));
    }
}

/// Small deterministic PRNG (SplitMix64) for shuffling and splits.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed ^ 0xD1B5_4A32_D192_ED03)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        super::features::mix(self.0)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}
