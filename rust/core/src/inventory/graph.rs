//! The group graph, computed once per inventory: each group's depth (longest path from `all`)
//! and place in Ansible's merge order, and each host's groups in that order (shared by the
//! hosts that are listed in the same groups). Everything here is linear in the size of the
//! graph, whatever its shape (diamonds, long chains); nothing recurses.

use super::limits::{Budget, OverBudget};
use super::Inventory;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The computed graph of an [`Inventory`], built on first use.
///
/// Built from the groups and hosts as they are then: readers finish the inventory before
/// anything looks a variable up. Change groups or hosts afterwards, and [`GraphIndex::reset`]
/// it.
#[derive(Clone, Debug, Default)]
pub struct GraphIndex(OnceLock<Arc<Index>>);

impl GraphIndex {
    /// Forgets the computed graph (after groups or hosts changed).
    pub fn reset(&mut self) {
        self.0 = OnceLock::new();
    }
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    /// By group index.
    depth: Vec<usize>,
    /// Group indices in Ansible's merge order: by depth, priority, then name.
    by_rank: Vec<usize>,
    /// By host index: ranks of every group the host is in (directly, through children, and
    /// `all`), ascending: the order their variables merge in.
    host_ranks: Vec<Arc<[u32]>>,
    /// Every variable name set anywhere (a group's or a host's).
    names: std::collections::HashSet<String>,
}

impl Inventory {
    /// The computed group graph (built now if not yet).
    pub(crate) fn index(&self) -> &Index {
        self.index
            .0
            .get_or_init(|| Arc::new(build(self, &mut Budget::new(usize::MAX)).unwrap_or_default()))
    }

    /// Builds the graph now, charging the per-host group lists to `budget`. `Err` names the
    /// first host whose groups do not fit.
    pub(crate) fn build_index(&self, budget: &mut Budget) -> Result<(), usize> {
        let index = build(self, budget)?;
        let _ = self.index.0.set(Arc::new(index));
        Ok(())
    }

    /// Whether any group or host sets `key`: when none does, no host has it (answered without
    /// asking each host).
    pub fn defines(&self, key: &str) -> bool {
        self.index().names.contains(key)
    }

    /// Depth of a group below `all` (Ansible's `Group.depth`: longest path from `all`; a group
    /// without parents hangs under `all`). 0 for `all` and for unknown groups.
    pub fn group_depth(&self, name: &str) -> usize {
        self.groups
            .get_index_of(name)
            .and_then(|i| self.index().depth.get(i).copied())
            .unwrap_or(0)
    }

    /// The host's groups (directly, through children, and `all`) in the order Ansible merges
    /// their variables (`ansible.inventory.helpers.sort_groups`).
    pub(crate) fn groups_in_precedence_order(
        &self,
        host: &str,
    ) -> impl DoubleEndedIterator<Item = &super::Group> + '_ {
        let index = self.index();
        let ranks: &[u32] = self
            .hosts
            .get_index_of(host)
            .and_then(|h| index.host_ranks.get(h))
            .map_or(&[], |r| r);
        ranks.iter().filter_map(move |&r| {
            let g = *index.by_rank.get(r as usize)?;
            self.groups.get_index(g).map(|(_, g)| g)
        })
    }
}

/// Parent indices of every group (unknown names skipped).
fn parent_indices(inv: &Inventory) -> Vec<Vec<usize>> {
    inv.groups
        .values()
        .map(|g| {
            g.parents
                .iter()
                .filter_map(|p| inv.groups.get_index_of(p))
                .collect()
        })
        .collect()
}

fn build(inv: &Inventory, budget: &mut Budget) -> Result<Index, usize> {
    let n = inv.groups.len();
    let parents = parent_indices(inv);
    let all = inv.groups.get_index_of("all");

    // Depth: longest path from `all`, in topological order (Kahn). Groups on a cycle (which
    // the readers refuse) keep the depth their other parents give.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending = vec![0usize; n];
    for (c, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(c);
            pending[c] += 1;
        }
    }
    let mut depth = vec![0usize; n];
    for (g, ps) in parents.iter().enumerate() {
        if Some(g) != all && ps.is_empty() {
            depth[g] = 1;
        }
    }
    let mut queue: Vec<usize> = (0..n).filter(|&g| pending[g] == 0).collect();
    while let Some(p) = queue.pop() {
        for &c in &children[p] {
            let d = if Some(c) == all { 0 } else { depth[p] + 1 };
            depth[c] = depth[c].max(d);
            pending[c] -= 1;
            if pending[c] == 0 {
                queue.push(c);
            }
        }
    }

    // Merge order: by depth, then priority, then name.
    let mut by_rank: Vec<usize> = (0..n).collect();
    by_rank.sort_by(|&a, &b| {
        let (ga, gb) = (&inv.groups[a], &inv.groups[b]);
        (depth[a], ga.priority.unwrap_or(1), &ga.name).cmp(&(
            depth[b],
            gb.priority.unwrap_or(1),
            &gb.name,
        ))
    });
    let mut rank = vec![0u32; n];
    for (r, &g) in by_rank.iter().enumerate() {
        rank[g] = r as u32;
    }

    // Each host's groups: once per distinct set of groups listing it directly.
    let mut memo: HashMap<Vec<usize>, Arc<[u32]>> = HashMap::new();
    let mut stamp = vec![usize::MAX; n];
    let mut host_ranks = Vec::with_capacity(inv.hosts.len());
    for (h, host) in inv.hosts.values().enumerate() {
        let mut direct: Vec<usize> = host
            .groups
            .iter()
            .filter_map(|g| inv.groups.get_index_of(g))
            .collect();
        direct.sort_unstable();
        direct.dedup();
        if let Some(r) = memo.get(&direct) {
            host_ranks.push(Arc::clone(r));
            continue;
        }
        let mut mine: Vec<u32> = Vec::new();
        let mut stack: Vec<usize> = direct.clone();
        stack.extend(all);
        let visit = memo.len();
        while let Some(g) = stack.pop() {
            if stamp[g] == visit {
                continue;
            }
            stamp[g] = visit;
            mine.push(rank[g]);
            stack.extend(&parents[g]);
            let cost = 4 + 8 * parents[g].len();
            budget.charge(cost).map_err(|OverBudget| h)?;
        }
        mine.sort_unstable();
        let mine: Arc<[u32]> = mine.into();
        memo.insert(direct, Arc::clone(&mine));
        host_ranks.push(mine);
    }
    let names = inv
        .groups
        .values()
        .flat_map(|g| g.vars.keys())
        .chain(inv.hosts.values().flat_map(|h| h.vars.keys()))
        .cloned()
        .collect();
    Ok(Index {
        depth,
        by_rank,
        host_ranks,
        names,
    })
}

/// A cycle in a graph of `n` nodes made of `edges` (parent, child): the nodes on it, in order.
/// Iterative depth-first search, linear in nodes and edges.
pub(crate) fn find_cycle(n: usize, edges: &[(usize, usize)]) -> Option<Vec<usize>> {
    let mut start = vec![0usize; n + 1];
    for &(p, _) in edges {
        start[p + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut adj = vec![0usize; edges.len()];
    let mut fill = start.clone();
    for &(p, c) in edges {
        adj[fill[p]] = c;
        fill[p] += 1;
    }
    // 0 unseen, 1 on the current path, 2 done.
    let mut state = vec![0u8; n];
    let mut next_edge = vec![0usize; n];
    let mut path: Vec<usize> = Vec::new();
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        path.push(root);
        next_edge[root] = start[root];
        while let Some(&g) = path.last() {
            if next_edge[g] < start[g + 1] {
                let c = adj[next_edge[g]];
                next_edge[g] += 1;
                match state[c] {
                    0 => {
                        state[c] = 1;
                        next_edge[c] = start[c];
                        path.push(c);
                    }
                    1 => {
                        let from = path.iter().position(|&x| x == c).unwrap_or(0);
                        return Some(path[from..].to_vec());
                    }
                    _ => {}
                }
            } else {
                state[g] = 2;
                path.pop();
            }
        }
    }
    None
}

/// The first edge (by position in `edges`) whose addition closes a cycle, if any: the edge on
/// which Ansible, adding them one by one, stops. `O(E log E)`.
pub(crate) fn first_cycle_edge(n: usize, edges: &[(usize, usize)]) -> Option<usize> {
    find_cycle(n, edges)?;
    // The shortest prefix with a cycle ends with the edge that closed it.
    let (mut lo, mut hi) = (1usize, edges.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if find_cycle(n, &edges[..mid]).is_some() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_and_the_edge_that_closes_one() {
        assert_eq!(find_cycle(3, &[(0, 1), (1, 2)]), None);
        assert_eq!(find_cycle(3, &[(0, 1), (1, 2), (2, 1)]), Some(vec![1, 2]));
        assert_eq!(find_cycle(1, &[(0, 0)]), Some(vec![0]));
        assert_eq!(
            first_cycle_edge(4, &[(0, 1), (1, 2), (3, 0), (2, 0), (2, 3)]),
            Some(3)
        );
        // A long chain closed at its end: found without recursion.
        let n = 200_000;
        let mut edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        assert_eq!(find_cycle(n, &edges), None);
        edges.push((n - 1, 0));
        assert_eq!(find_cycle(n, &edges).map(|c| c.len()), Some(n));
        assert_eq!(first_cycle_edge(n, &edges), Some(n - 1));
    }
}
