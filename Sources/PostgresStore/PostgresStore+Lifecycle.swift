public import BookingDomain
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

extension PostgresStore {
    /// Runs the store until graceful shutdown or cancellation: the connection pool, the `LISTEN` that
    /// turns `NOTIFY booking_outbox` into ``outboxWakeUps()``, and the sender of those `NOTIFY`s, each
    /// a child task. Add the store to your `ServiceGroup` before the services that use it.
    ///
    /// Operations called before it runs (migrations in a server's start-up, say) wait for it, within their
    /// usual wait for a connection.
    public func run() async {
        // A port the network layer would cut to 16 bits connects nowhere: migrate() says why.
        guard Configuration.ports.contains(configuration.port) else {
            logger.error(
                "the store does not connect: its port is not 1 to 65535", metadata: ["port": "\(configuration.port)"])
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if #available(macOS 26, iOS 26, watchOS 26, tvOS 26, visionOS 26, *) {
                    // Runs at once, until the pool first suspends: by then the client counts as running, so the
                    // leases the gate lets through no longer make PostgresNIO warn.
                    group.addImmediateTask { await self.client.run() }
                } else {
                    group.addTask { await self.client.run() }
                }
                self.poolStart.open()
                group.addTask { await self.listenForWakeUps() }
                group.addTask { await self.sendWakeUps() }
            }
        }
    }

    /// Applies the pending migrations (``applyPendingMigrations()``); first refuses a configured port outside 1-65535
    /// (`invalidInput` on `port`), which the network layer would otherwise cut to 16 bits and connect elsewhere.
    ///
    /// When the database is out of reach, the `storeUnavailable` error names why, from one connection opened
    /// directly: a wrong password, a missing database, nothing listening, no answer within the connect timeout. A
    /// schema whose migrations are recorded but which lacks a table, the no-overlap constraint, the seat index or the
    /// booking procedure (a partial restore, an object dropped by hand) is refused with `storeUnavailable` naming
    /// what is missing, so that no booking is taken without the rules that keep it safe.
    public func migrate() async throws(BookingError) {
        guard Configuration.ports.contains(configuration.port) else {
            throw .invalidInput(field: "port", "must be 1 to 65535, not \(configuration.port)")
        }
        migrations.add(1, ordering: .relaxed)
        defer { migrations.subtract(1, ordering: .relaxed) }
        do {
            try await applyPendingMigrations()
            try await refuseDamagedSchema()
        } catch  where Self.isUnreachable(error) {
            guard let cause = await ConnectionProbe.failure(of: configuration, logger: logger) else { throw error }
            throw .storeUnavailable(cause)
        }
    }

    /// What the store's rules stand on, each with the SQL that says whether it is there.
    private static let essentials: [(name: String, present: String)] = [
        ("table appointments", "to_regclass('appointments') IS NOT NULL"),
        ("table notifications", "to_regclass('notifications') IS NOT NULL"),
        ("table reschedule_keys", "to_regclass('reschedule_keys') IS NOT NULL"),
        ("table slot_holds", "to_regclass('slot_holds') IS NOT NULL"),
        (
            "constraint appointments_no_overlap",
            "EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'appointments_no_overlap' AND contype = 'x' "
                + "AND conrelid = to_regclass('appointments'))"
        ),
        (
            "unique index appointments_seats",
            "EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('appointments_seats') "
                + "AND indrelid = to_regclass('appointments') AND indisunique AND indisvalid)"
        ),
        // The batched first seats' procedure is left out: without it the store books each request alone.
        (
            "procedure \(InsertProcedure.name)",
            "EXISTS (SELECT 1 FROM pg_proc WHERE proname = '\(InsertProcedure.name)' AND pg_function_is_visible(oid))"
        ),
    ]

    /// Throws `storeUnavailable` naming each of ``essentials`` the database lacks, in one statement that only reads.
    private func refuseDamagedSchema() async throws(BookingError) {
        let checks = Self.essentials.enumerated().map { "(\($0.offset), '\($0.element.name)', \($0.element.present))" }
            .joined(separator: ", ")
        let missing = try await perform { [logger] connection -> [String] in
            var missing: [String] = []
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        "SELECT name FROM (VALUES \(checks)) AS essential(position, name, present) WHERE NOT present "
                        + "ORDER BY position"),
                logger: logger)
            for try await name in rows.decode(String.self) { missing.append(name) }
            return missing
        }
        guard missing.isEmpty else {
            throw .storeUnavailable(
                "its schema is damaged: \(missing.joined(separator: ", ")) missing though every migration is recorded "
                    + "(a partial restore, or an object dropped by hand); restore the database from a backup")
        }
    }

    /// Yields when this store commits a notification, and on every `NOTIFY booking_outbox` (another process's)
    /// while ``run()`` runs: a hint only, dispatchers keep polling.
    public func outboxWakeUps() -> AsyncStream<Void> {
        receivedWakeUps.stream()
    }

    /// After a commit, outside the commit path: wakes this process's dispatchers at once, and asks for a
    /// `NOTIFY booking_outbox` for those of other processes. Requests made while one is being sent, or within
    /// ``notifyInterval`` of the last, coalesce into one more. Best effort: a lost hint only delays delivery
    /// until the dispatchers' next poll.
    func wakeDispatchers() {
        receivedWakeUps.signal()
        wakeUpRequests.continuation.yield()
    }

    /// The least time between two `NOTIFY`s of this store: a busy process sends one per interval, not one per
    /// booking, and other processes' dispatchers still hear of new work within it.
    static let notifyInterval: Duration = .milliseconds(20)

    /// Sends the requested `NOTIFY`s, one at a time and at most one per ``notifyInterval``, until cancelled.
    private func sendWakeUps() async {
        for await _ in wakeUpRequests.stream {
            do {
                try await perform(waitingAtMost: configuration.healthTimeout) { [logger, notifyPayload] connection in
                    _ = try await connection.query(
                        "SELECT pg_notify(\(Self.outboxChannel), \(notifyPayload))", logger: logger)
                }
            } catch {
                logger.debug("could not wake the dispatchers", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: Self.notifyInterval)
        }
    }

    /// Holds one pooled connection that `LISTEN`s, and passes every notification on to the streams of
    /// ``outboxWakeUps()``; reconnects a second after losing it, until cancelled.
    ///
    /// The first failure after it listened (or before it ever did) is a warning: until it listens again, dispatchers
    /// of other processes hear of this one's work only at their next poll (a `LISTEN` never works behind a pooler in
    /// transaction mode, say). The retries after it log at debug.
    private func listenForWakeUps() async {
        let listened = Atomic<Bool>(false)
        var warned = false
        while !Task.isCancelled {
            do {
                try await client.withConnection { [receivedWakeUps, notifyPayload] connection in
                    try await connection.listen(on: Self.outboxChannel) { notifications in
                        listened.store(true, ordering: .relaxed)
                        // The echo of this store's own NOTIFY is skipped: its dispatchers were woken directly.
                        for try await notification in notifications where notification.payload != notifyPayload {
                            receivedWakeUps.signal()
                        }
                    }
                }
            } catch {
                if listened.exchange(false, ordering: .relaxed) { warned = false }
                // A stop closes the pool's connections, this one included, and the pool may close it before this task
                // is cancelled (a cancellation reaches the pool's task and this one in turn): the loss is judged after
                // the pause before the retry, by when a stop's cancellation or graceful shutdown has reached this task.
                try? await Task.sleep(for: .seconds(1))
                let stopping = Task.isCancelled || Task.isShuttingDownGracefully
                logger.log(
                    level: warned || stopping ? .debug : .warning,
                    "outbox listener lost its connection; other processes' dispatchers hear of new work at their polls until it is back",
                    metadata: ["error": "\(String(reflecting: type(of: error)))"])
                warned = true
                continue
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
