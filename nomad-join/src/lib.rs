//! Join Nomad servers across regions and verify the federation.
//!
//! Nomad never joins regions by itself: a server of one region must be told
//! the serf address of a server of the other (`nomad server join`). Gossip
//! then spreads membership, eventually: a check right after the join can
//! lie. `nomad-join` joins once, then re-reads the federation until it holds
//! or `--wait` runs out, and says which in one JSON object.

pub mod cli;
pub mod federation;
