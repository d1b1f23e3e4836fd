//! What metis-deploy reads at most. Ansible has no such limits, but past them it runs for hours or
//! exhausts memory (or its parser fails); metis-deploy stops with a clear, located error instead.
//! The README's "Robustness" section lists them.

/// Largest inventory file read (INI or JSON).
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Most distinct hosts in one inventory.
pub const MAX_HOSTS: usize = 100_000;

/// Most host entries in one inventory: a host listed in three groups is three entries.
pub const MAX_HOST_ENTRIES: usize = 1_000_000;

/// Most memory the values, hosts and groups read from one inventory may take (host-line
/// variables counted once per host they are set on). With the input itself and the transient
/// copies of reading, a process stays well below 1 GiB.
pub const MAX_MEMORY: usize = 256 << 20;

/// Deepest nesting of a JSON document, and of a value handed over from Python.
pub const MAX_NESTING: usize = 256;

/// Deepest INI value: brackets, signs and operators each count one level. (Python's own
/// parser gives up between about 1,500 and 3,000 levels, depending on their kind, and Ansible
/// then refuses the inventory.)
pub const MAX_LITERAL_DEPTH: usize = 1_000;

/// Longest integer read from JSON, in decimal digits (Python's `int` refuses longer ones).
pub use crate::value::MAX_INT_DIGITS;

/// What reading one inventory has built so far, against [`MAX_MEMORY`].
#[derive(Debug)]
pub struct Budget {
    left: usize,
}

/// The budget is spent: the inventory is past [`MAX_MEMORY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

impl Default for Budget {
    fn default() -> Self {
        Budget { left: MAX_MEMORY }
    }
}

impl Budget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        Budget { left: bytes }
    }

    /// What is left.
    pub fn left(&self) -> usize {
        self.left
    }

    /// Takes `bytes` from the budget.
    pub fn charge(&mut self, bytes: usize) -> Result<(), OverBudget> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => {
                self.left = 0;
                Err(OverBudget)
            }
        }
    }
}

/// Roughly what one value takes in memory: its node and what it owns, nested values included.
pub fn value_cost(v: &crate::value::Value) -> usize {
    use crate::value::Value;
    let node = std::mem::size_of::<Value>();
    let mut total = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(node);
        match v {
            Value::Str(s) => total = total.saturating_add(s.len()),
            Value::Int(i) => total = total.saturating_add((i.bits() / 8) as usize + 8),
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => stack.extend(items),
            Value::Dict(pairs) => {
                for (k, v) in pairs {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Value::None | Value::Bool(_) | Value::Float(_) => {}
        }
    }
    total
}
