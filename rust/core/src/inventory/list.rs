//! `ansible-inventory --list` output. (Being written.)
