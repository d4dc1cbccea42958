// Swift-only: the recorder's tables, keyed by the small numbers it hands out itself.
//
// The recorder looks a frame, a lane or a part up several times per event, under its lock, on
// the server's hot path. A standard `Dictionary` hashes every key with seeded SipHash, which
// callgrind showed to be an eighth of a traced request's instructions; these keys are counters
// the recorder made (or thread handles), never chosen by a client, so a cheap mixing function
// serves: no attacker can pick keys that collide.

/// A key hashed with a short integer mix instead of SipHash.
struct CheapKey: Hashable {
    let raw: Int

    static func == (a: CheapKey, b: CheapKey) -> Bool { a.raw == b.raw }

    func hash(into hasher: inout Hasher) { hasher.combine(raw) }

    // The hook `Dictionary` calls to hash a key (a standard library requirement of Hashable
    // with a SipHash default): the 64-bit finaliser of MurmurHash3, seeded per table.
    func _rawHashValue(seed: Int) -> Int {
        var x = UInt64(bitPattern: Int64(raw)) ^ UInt64(bitPattern: Int64(seed))
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        return Int(bitPattern: UInt(x))
    }
}

/// A table from the recorder's own numbers (frame, lane, part keys, thread handles) to values,
/// with the part of `Dictionary`'s interface the recorder uses.
struct KeyedTable<Key: BinaryInteger, Value> {
    private var storage: [CheapKey: Value] = [:]

    init() {}

    subscript(key: Key) -> Value? {
        get { storage[CheapKey(raw: Int(truncatingIfNeeded: key))] }
        _modify { yield &storage[CheapKey(raw: Int(truncatingIfNeeded: key))] }
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }
    /// The keys, in no particular order.
    var keys: [Key] { storage.keys.map { Key(truncatingIfNeeded: $0.raw) } }
    /// The values, in no particular order.
    var values: Dictionary<CheapKey, Value>.Values { storage.values }

    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        storage.removeValue(forKey: CheapKey(raw: Int(truncatingIfNeeded: key)))
    }

    /// The entries for which `keep` holds of the value.
    func filter(_ keep: (Value) -> Bool) -> KeyedTable {
        var kept = KeyedTable()
        kept.storage = storage.filter { keep($0.value) }
        return kept
    }

    /// Rebuilds the table at a size fit for its entries when it holds less than an eighth of
    /// what it has room for (and has room for more than a thousand).
    mutating func shrinkIfSparse() {
        guard storage.capacity > 1024, storage.count * 8 < storage.capacity else { return }
        var fitted = [CheapKey: Value](minimumCapacity: storage.count * 2)
        for (key, value) in storage { fitted[key] = value }
        storage = fitted
    }
}
