//! The `ivr` command: serve the voice line and portal, run the demo, and operators' tools.

fn main() -> anyhow::Result<()> {
    Ok(())
}
