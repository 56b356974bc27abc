//! Fallible allocation of the buffers whose size a spec decides (parameters, Adam moments,
//! gradients): a size the machine cannot give is an error naming it, never an abort.

use super::ModelError;

/// `n` copies of `value`, or [`ModelError::Alloc`] when the memory cannot be reserved.
pub fn filled<T: Clone>(n: usize, value: T, what: &str) -> Result<Vec<T>, ModelError> {
    let mut out = reserve(n, what)?;
    out.resize(n, value);
    Ok(out)
}

/// A copy of `values`, or [`ModelError::Alloc`].
pub fn copy_of<T: Clone>(values: &[T], what: &str) -> Result<Vec<T>, ModelError> {
    let mut out = reserve(values.len(), what)?;
    out.extend_from_slice(values);
    Ok(out)
}

fn reserve<T>(n: usize, what: &str) -> Result<Vec<T>, ModelError> {
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| ModelError::Alloc {
        what: what.to_string(),
        bytes: (n as u64).saturating_mul(std::mem::size_of::<T>() as u64),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_size_is_an_error_naming_it() {
        // 2^61 f32 values: past any machine (and past isize::MAX bytes).
        let err = filled(1usize << 61, 0.0f32, "the model parameters").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("failed to allocate the model parameters: 9223372036854775808 bytes"),
            "{text}"
        );
        assert_eq!(filled(3, 1u8, "x").unwrap(), vec![1, 1, 1]);
        assert_eq!(copy_of(&[1, 2], "x").unwrap(), vec![1, 2]);
    }
}
