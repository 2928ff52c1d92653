package parley

import (
	"context"
	"time"
)

// Store is a storage backend. It does typed reads and writes; every rule
// (validation, defaults, which errors mean what to a caller) lives in package
// core, so the SQLite and PostgreSQL backends cannot drift apart.
type Store interface {
	// View runs fn against committed data. Reads are consistent per
	// statement; a View is not guaranteed to be one snapshot (SQLite runs
	// its reads outside a transaction, which keeps them cheap).
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a write transaction and returns once the
	// transaction is durably committed, or fn's error with nothing of fn
	// written. A backend may commit several callers' fns together (group
	// commit); each fn is isolated from the others' failures.
	//
	// fn must not block on anything but the store (no network calls); it
	// may run more than once (PostgreSQL retries serialization failures,
	// deadlocks, and writes that met ErrDangling), so it must not keep
	// state across runs; and after a write fails it must return that error
	// rather than go on, because PostgreSQL refuses every further statement
	// of the transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// Reset deletes everything but the account (emulator mode's reset):
	// services and all they hold, the account configuration, the webhook
	// outbox, the client event log and connections, and the API keys too
	// unless keepKeys; then it runs fn in the same transaction (which
	// writes the fresh start). Other writes run wholly before or wholly
	// after it.
	Reset(ctx context.Context, keepKeys bool, fn func(Tx) error) error
	// Close waits for in-flight writes and releases the database.
	Close() error
}

// Tx is the set of typed reads and writes a Store offers inside View and
// Update. Every method that looks a row up returns ErrNotFound when there is
// none; writes return ErrConflict when a uniqueness constraint refuses them,
// ErrInUse when a delete is refused because other rows refer to the row,
// and ErrDangling when an insert or update refers to a row that is gone.
//
// Reads that take a service SID (Service, ServiceConfig, Role, ListRoles,
// UserBySid, UserByIdentity, ListUsers) accept "" for the account's default
// service and resolve it in the same statement: shortened URLs are the
// common case, and a separate lookup of the default would double the cost of
// every such read. Writes always take the real SID, from a row read first.
type Tx interface {
	// ForUpdate returns the same transaction with reads that lock the rows
	// they return against other writers until commit. Every
	// read-modify-write reads through it: on PostgreSQL, two transactions
	// that each read a row and write it back whole would otherwise both
	// commit, the second erasing the first's change (a lost update); with
	// the lock, the second waits and then reads the first's result.
	ForUpdate() Tx
	// ForShare returns the same transaction with reads that lock the rows
	// they return against deletion (and nothing else) until commit. A write
	// reads what it will refer to (a user's new role, a new default
	// service) through it, before it locks the row it rewrites: rows are
	// then locked parent first, in the order a delete takes them, so a
	// write and a delete of what it refers to queue up instead of
	// deadlocking.
	//
	// SQLite, which runs one writer at a time, has nothing to lock; in
	// View, neither method changes anything.
	ForShare() Tx

	AccountTx
	ServiceTx
	RoleTx
	UserTx
	CredentialTx
	ConversationTx
	ParticipantTx
	MessageTx
	ConversationWebhookTx
	DeliveryTx
	SyncTx
	MediaTx
	AddressTx
	BindingTx
}

// AccountTx reads and writes the account, its configuration and API keys.
type AccountTx interface {
	// Account returns the account, ErrNotFound before the first start.
	Account(ctx context.Context) (Account, error)
	CreateAccount(ctx context.Context, a Account) error
	SetAuthToken(ctx context.Context, token string) error

	// AccountConfig returns the account configuration, ErrNotFound before
	// the first start.
	AccountConfig(ctx context.Context) (AccountConfig, error)
	// PutAccountConfig creates or replaces the account configuration.
	PutAccountConfig(ctx context.Context, c AccountConfig) error

	APIKey(ctx context.Context, sid string) (APIKey, error)
	CreateAPIKey(ctx context.Context, k APIKey) error
	// ListAPIKeys returns every key, revoked ones included, oldest first.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey marks a key revoked; ErrNotFound if there is no such key.
	RevokeAPIKey(ctx context.Context, sid string, at time.Time) error
}

// ServiceTx reads and writes services and their configuration.
type ServiceTx interface {
	Service(ctx context.Context, sid string) (Service, error)
	ListServices(ctx context.Context, q PageQuery) (Page[Service], error)
	CreateService(ctx context.Context, s Service) error
	// DeleteService removes the service and everything in it (roles,
	// users, configuration); ErrNotFound if there is none; ErrInUse if the
	// account configuration names it as the default.
	DeleteService(ctx context.Context, sid string) error

	ServiceConfig(ctx context.Context, serviceSid string) (ServiceConfig, error)
	// NotificationSettings reads the service configuration's push
	// settings alone (every message create asks).
	NotificationSettings(ctx context.Context, serviceSid string) (NotificationSettings, error)
	// PutServiceConfig creates or replaces a service's configuration.
	PutServiceConfig(ctx context.Context, c ServiceConfig) error
}

// RoleTx reads and writes roles.
type RoleTx interface {
	Role(ctx context.Context, serviceSid, sid string) (Role, error)
	ListRoles(ctx context.Context, serviceSid string, q PageQuery) (Page[Role], error)
	CreateRole(ctx context.Context, r Role) error
	// UpdateRole replaces the role's permissions and date_updated.
	UpdateRole(ctx context.Context, r Role) error
	// DeleteRole returns ErrInUse while users hold the role or the
	// service configuration names it.
	DeleteRole(ctx context.Context, serviceSid, sid string) error
}

// UserTx reads and writes users.
type UserTx interface {
	UserBySid(ctx context.Context, serviceSid, sid string) (User, error)
	UserByIdentity(ctx context.Context, serviceSid, identity string) (User, error)
	ListUsers(ctx context.Context, serviceSid string, q PageQuery) (Page[User], error)
	// CreateUser returns ErrConflict when the identity is taken in the
	// service.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser writes role, friendly name, attributes and date_updated of
	// the user with u.Sid in u.ServiceSid.
	UpdateUser(ctx context.Context, u User) error
	DeleteUser(ctx context.Context, serviceSid, sid string) error
}

// CredentialTx reads and writes the account's push credentials.
type CredentialTx interface {
	Credential(ctx context.Context, sid string) (Credential, error)
	ListCredentials(ctx context.Context, q PageQuery) (Page[Credential], error)
	CreateCredential(ctx context.Context, c Credential) error
	// UpdateCredential writes every field of c.Sid's row but the creation
	// date.
	UpdateCredential(ctx context.Context, c Credential) error
	DeleteCredential(ctx context.Context, sid string) error
}

// ConversationTx reads and writes conversations. Reads take "" for the
// default service, like users'.
// ConversationWebhookTx reads and writes conversation-scoped webhooks.
type ConversationWebhookTx interface {
	ConversationWebhookBySid(ctx context.Context, conversationSid, sid string) (ConversationWebhook, error)
	// ConversationWebhooks returns every webhook of a conversation (there
	// are at most five), in creation order.
	ConversationWebhooks(ctx context.Context, conversationSid string) ([]ConversationWebhook, error)
	ListConversationWebhooks(ctx context.Context, conversationSid string, q PageQuery) (Page[ConversationWebhook], error)
	CreateConversationWebhook(ctx context.Context, w ConversationWebhook) error
	// UpdateConversationWebhook writes every field of w.Sid's row but its
	// conversation, service and target.
	UpdateConversationWebhook(ctx context.Context, w ConversationWebhook) error
	DeleteConversationWebhook(ctx context.Context, conversationSid, sid string) error
}

// MessageTx reads and writes the messages of conversations.
type MessageTx interface {
	MessageBySid(ctx context.Context, conversationSid, sid string) (Message, error)
	// ListMessages lists a conversation's messages by index (ascending,
	// or with PageQuery.Desc descending); the page's FirstSeq and LastSeq
	// are the indexes plus one (cursors are never 0).
	ListMessages(ctx context.Context, conversationSid string, q PageQuery) (Page[Message], error)
	// CountMessages counts a conversation's messages.
	CountMessages(ctx context.Context, conversationSid string) (int64, error)
	// NextMessageIndex raises the conversation's last message index and
	// returns it (0 for the first message). It locks the conversation's
	// row until commit, so concurrent senders get increasing, unique
	// indexes; ErrNotFound when the conversation is gone.
	NextMessageIndex(ctx context.Context, conversationSid string) (int64, error)
	// RaiseMessageIndex raises the conversation's last message index to
	// to when it is below (a fixture's messages skipping indexes), in one
	// statement whatever the gap; ErrNotFound when the conversation is
	// gone.
	RaiseMessageIndex(ctx context.Context, conversationSid string, to int64) error
	CreateMessage(ctx context.Context, m Message) error
	// PutReceipt records r as the latest receipt of its (message,
	// participant): a new row, or the existing one rewritten with r's
	// status, error code and date_updated (its SID and date_created stay).
	PutReceipt(ctx context.Context, r Receipt) error
	ReceiptBySid(ctx context.Context, messageSid, sid string) (Receipt, error)
	// Receipts returns every receipt of a message (one per non-chat
	// participant), for its aggregate.
	Receipts(ctx context.Context, messageSid string) ([]Receipt, error)
	ListReceipts(ctx context.Context, messageSid string, q PageQuery) (Page[Receipt], error)
	// UpdateMessage writes every field of m.Sid's row but its
	// conversation, service and index.
	UpdateMessage(ctx context.Context, m Message) error
	DeleteMessage(ctx context.Context, conversationSid, sid string) error
}

type ConversationTx interface {
	ConversationBySid(ctx context.Context, serviceSid, sid string) (Conversation, error)
	ConversationByUniqueName(ctx context.Context, serviceSid, uniqueName string) (Conversation, error)
	// ListConversations lists a service's conversations that f matches:
	// in creation order, or, with f.Start or f.End set, newest
	// date_created first (PageQuery.Key is then a cursor's date_created
	// in Unix seconds).
	ListConversations(ctx context.Context, serviceSid string, f ConversationFilter, q PageQuery) (Page[Conversation], error)
	// CreateConversation returns ErrConflict when the unique name is taken
	// in the service.
	CreateConversation(ctx context.Context, c Conversation) error
	// UpdateConversation writes every field of c.Sid's row but its
	// service and creator; ErrConflict when the new unique name is taken.
	// Closing a conversation (State closed) also releases the address
	// pairs its participants held (see Participant.PairKey).
	UpdateConversation(ctx context.Context, c Conversation) error
	// DeleteConversation removes the conversation with its participants.
	DeleteConversation(ctx context.Context, serviceSid, sid string) error
	// DueConversations returns, and locks, up to limit conversations
	// whose next timer (Conversation.NextTimer) is at or before now,
	// earliest first. Concurrent callers on a shared database pass over
	// each other's rows (SKIP LOCKED), so each timer fires on one node.
	DueConversations(ctx context.Context, now time.Time, limit int) ([]Conversation, error)
	// NextConversationTimer is the earliest pending timer of any
	// conversation; nil when none is pending.
	NextConversationTimer(ctx context.Context) (*time.Time, error)
	// CountDueConversations counts the conversations whose next timer is
	// at or before now: timers due and not yet fired (for metrics; an
	// index range, as cheap as the timers are few).
	CountDueConversations(ctx context.Context, now time.Time) (int64, error)
}

// ParticipantTx reads and writes the participants of conversations.
type ParticipantTx interface {
	ParticipantBySid(ctx context.Context, conversationSid, sid string) (Participant, error)
	ParticipantByIdentity(ctx context.Context, conversationSid, identity string) (Participant, error)
	// ParticipantByAddress returns a non-chat participant of the
	// conversation by its messaging binding address.
	ParticipantByAddress(ctx context.Context, conversationSid, address string) (Participant, error)
	// ParticipantByPair returns the participant holding the (address,
	// proxy address) pair in an open conversation of the account.
	ParticipantByPair(ctx context.Context, address, proxyAddress string) (Participant, error)
	ListParticipants(ctx context.Context, conversationSid string, q PageQuery) (Page[Participant], error)
	CountParticipants(ctx context.Context, conversationSid string) (ParticipantCounts, error)
	// CountOpenConversations counts the active and inactive conversations
	// the user is a participant of.
	CountOpenConversations(ctx context.Context, userSid string) (int, error)
	// CreateParticipant returns ErrConflict when the identity is already
	// in the conversation or the address pair is held in an open
	// conversation.
	CreateParticipant(ctx context.Context, p Participant) error
	// UpdateParticipant writes every field of p.Sid's row but its
	// conversation, service and kind; ErrConflict as for create.
	UpdateParticipant(ctx context.Context, p Participant) error
	DeleteParticipant(ctx context.Context, conversationSid, sid string) error
	// ListUserConversations lists the conversations a user is a
	// participant of, in the order they joined.
	ListUserConversations(ctx context.Context, userSid string, q PageQuery) (Page[Membership], error)
	// ListParticipantConversations lists the participants of a service
	// that f matches, with their conversations, by conversation SID
	// (PageQuery.Key is then a cursor's conversation SID).
	ListParticipantConversations(ctx context.Context, serviceSid string, f MembershipFilter, q PageQuery) (Page[Membership], error)
}

// DeliveryTx is the webhook outbox. It is queued per receiving host
// (Delivery.Host), so that a dispatcher can serve each host at the pace it
// answers: a receiver that is slow or down holds back only its own
// deliveries, never another host's.
type DeliveryTx interface {
	// EnqueueDelivery records a delivery, normally in the same transaction
	// as the change it reports. The store sets its Host from its URL
	// (DeliveryHost), whatever d.Host holds.
	EnqueueDelivery(ctx context.Context, d Delivery) error
	// PendingHosts returns, in host order, every host that has pending
	// deliveries nobody holds a lease on at now, with the earliest next
	// attempt among them. It costs an index probe or two per host, not a
	// row per queued delivery, so a dispatcher can ask on every wake-up
	// even with many thousands queued for a host that is down.
	PendingHosts(ctx context.Context, now time.Time) ([]PendingHost, error)
	// ClaimDeliveries leases, for each host in limits, up to limits[host]
	// of that host's pending deliveries that are due at now and not leased
	// by anyone else (or whose lease has run out), the earliest due first,
	// setting their lease to leaseUntil; hosts with a limit below 1 are
	// passed over. It returns them by host in host order, each host's in
	// the order they were due. On a shared database, concurrent claims
	// never return the same delivery.
	ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limits map[string]int) ([]Delivery, error)
	// CountPendingDeliveries counts the pending deliveries, due or not,
	// leased or not: the outbox's depth (for metrics; it reads the
	// pending index, so its cost grows with what is queued).
	CountPendingDeliveries(ctx context.Context) (int64, error)
	// FinishDelivery records an attempt's outcome: status, attempts,
	// next attempt, last status, error and answer, and clears the lease.
	FinishDelivery(ctx context.Context, d Delivery) error
	// ListDeliveries lists the outbox, the deliveries f matches only.
	ListDeliveries(ctx context.Context, f DeliveryFilter, q PageQuery) (Page[Delivery], error)
	// Delivery returns one delivery by SID.
	Delivery(ctx context.Context, sid string) (Delivery, error)
	// RetryDelivery makes a delivery that is not held by a dispatcher
	// pending again and due at at (its attempts so far kept), and returns
	// it; ErrNotFound if there is none, ErrInUse if a dispatcher holds it
	// (it is being sent) or it is a recorded push (never sent).
	RetryDelivery(ctx context.Context, sid string, at time.Time) (Delivery, error)
	// DeleteDeliveries deletes the whole outbox, pending deliveries too.
	DeleteDeliveries(ctx context.Context) error
	// PruneDeliveries deletes up to limit finished deliveries (delivered,
	// failed, recorded) last updated before before, oldest first, and
	// says how many it deleted.
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error)
}

// SyncTx is the log of the events client SDKs see on their Sync
// objects (SyncEvent). A write appends the events it causes in its own
// transaction, as it queues its webhooks, so a change that commits has
// its events and one that does not has none.
type SyncTx interface {
	// AdvanceSyncObjects reserves, for each object of counts, the next
	// counts[object] event ids, in one statement, and returns the last of
	// each (the ids are last-n+1 … last). Counter rows are locked in object
	// order and stay locked until the transaction ends, so one object's ids
	// are in commit order and two writes never deadlock on them.
	AdvanceSyncObjects(ctx context.Context, counts map[string]int) (map[string]int64, error)
	// AppendSyncEvents writes events whose ids AdvanceSyncObjects gave.
	AppendSyncEvents(ctx context.Context, events []SyncEvent) error
	// SyncEventsAfter returns up to limit of object's events with ids
	// above after, in id order.
	SyncEventsAfter(ctx context.Context, object string, after int64, limit int) ([]SyncEvent, error)
	// LastSyncEventID is object's last event id; 0 when it has none.
	LastSyncEventID(ctx context.Context, object string) (int64, error)
	// TrimSyncEvents deletes events created before before and returns how
	// many it deleted. The counters stay, so ids never go back.
	TrimSyncEvents(ctx context.Context, before time.Time) (int64, error)
	// Notify tells the nodes that listen on the store (Listener) payload
	// on channel when, and only if, the transaction commits. A store one
	// node has alone (SQLite) does nothing.
	Notify(ctx context.Context, channel, payload string) error
}

// UserRef names a user of a service.
type UserRef struct {
	ServiceSid, UserSid string
}

// StatsReporter is a store that reports on itself for monitoring (api's
// /metrics): its connection pools and, where it groups writes into
// commits, how many each commit carried. Both backends implement it; the
// metrics read it through this interface rather than by backend.
type StatsReporter interface {
	Stats() StoreStats
}

// StoreStats is a snapshot of a store's counters; the Total and Waits
// fields only grow.
type StoreStats struct {
	Pools []PoolStats
	// Commits is nil for a store that does not group writes (PostgreSQL
	// commits each transaction on its own, and groups their WAL flushes
	// itself).
	Commits *CommitStats
}

// PoolStats describe one connection pool (database/sql's DBStats,
// pgxpool's Stat).
type PoolStats struct {
	// Name tells the store's pools apart: "read" and "write" (SQLite),
	// "pool" (PostgreSQL).
	Name string
	// Max is the pool's size limit; Open its connections now, of which
	// InUse are lent out and Idle are not.
	Max, Open, InUse, Idle int
	// Waits counts the acquisitions that found no idle connection and
	// waited; WaitTime is their total wait.
	Waits    int64
	WaitTime time.Duration
}

// CommitStats count the writes (Update calls) each commit carried, as a
// histogram: a store that commits concurrent writes together (SQLite's
// group commit) shows here how well it groups them.
type CommitStats struct {
	// Bounds are the buckets' upper bounds, ascending; Counts[i] counts
	// the commits of at most Bounds[i] writes (cumulative, as Prometheus
	// counts histograms).
	Bounds []float64
	Counts []uint64
	// Commits and Writes are the totals: commits made, and the writes
	// they carried.
	Commits, Writes uint64
}

// Listener is what a store shared by several nodes offers: each node
// hears what the others' writes Notify.
type Listener interface {
	// Listen calls heard with each payload notified on channel (by any
	// node, this one too) until ctx ends. Each time it starts listening
	// (the first time, and when its connection was lost and is back) it
	// calls missed before hearing more: notifications sent before may
	// have been missed, and the caller catches up from what the database
	// holds.
	Listen(ctx context.Context, channel string, heard func(payload string), missed func()) error
}

// MediaTx is the storage of media. An upload is written in steps, one
// chunk per transaction, so that a large file holds no write lock while
// its bytes arrive: CreateMedia starts it, AppendMediaChunk adds each
// chunk, CompleteMedia makes it visible. Until then no read returns it.
type MediaTx interface {
	// MediaBySid returns uploaded media of the service (never one still
	// uploading).
	MediaBySid(ctx context.Context, serviceSid, sid string) (Media, error)
	CreateMedia(ctx context.Context, m Media) error
	// AppendMediaChunk stores the n-th chunk (from 0) of an upload;
	// ErrNotFound when the upload is gone or complete.
	AppendMediaChunk(ctx context.Context, mediaSid string, n int64, data []byte) error
	// CompleteMedia ends an upload of size bytes; ErrNotFound when it is
	// gone or complete already.
	CompleteMedia(ctx context.Context, sid string, size int64) error
	// MediaChunk returns the n-th chunk of uploaded media.
	MediaChunk(ctx context.Context, mediaSid string, n int64) ([]byte, error)
	// AttachMedia records the message that carries media; ErrNotFound
	// unless the media is uploaded and carried by no message yet.
	AttachMedia(ctx context.Context, sid, conversationSid, messageSid string) error
	// DeleteMedia removes media and its bytes (an upload that failed).
	DeleteMedia(ctx context.Context, sid string) error
	// DeleteStaleUploads removes uploads started before before and never
	// completed (their server died mid-upload), returning how many.
	DeleteStaleUploads(ctx context.Context, before time.Time) (int64, error)
}

// AddressTx reads and writes the account's address configurations.
type AddressTx interface {
	AddressConfig(ctx context.Context, sid string) (AddressConfig, error)
	AddressConfigByAddress(ctx context.Context, address string) (AddressConfig, error)
	// ListAddressConfigs lists the configurations of type typ ("" for
	// all) in creation order.
	ListAddressConfigs(ctx context.Context, typ string, q PageQuery) (Page[AddressConfig], error)
	// CreateAddressConfig returns ErrConflict when the address has one.
	CreateAddressConfig(ctx context.Context, c AddressConfig) error
	// UpdateAddressConfig writes friendly name, auto-creation and
	// date_updated.
	UpdateAddressConfig(ctx context.Context, c AddressConfig) error
	DeleteAddressConfig(ctx context.Context, sid string) error
}

// BindingTx reads and writes push bindings. Reads by SID take "" for the
// default service.
type BindingTx interface {
	Binding(ctx context.Context, serviceSid, sid string) (Binding, error)
	// BindingByEndpoint finds the binding of a device: one per (service,
	// type, endpoint).
	BindingByEndpoint(ctx context.Context, serviceSid, bindingType, endpoint string) (Binding, error)
	ListBindings(ctx context.Context, serviceSid string, f BindingFilter, q PageQuery) (Page[Binding], error)
	// CreateBinding returns ErrConflict when the device has a binding.
	CreateBinding(ctx context.Context, b Binding) error
	// UpdateBinding writes user, identity, credential, message types and
	// date_updated of b.Sid's row.
	UpdateBinding(ctx context.Context, b Binding) error
	DeleteBinding(ctx context.Context, serviceSid, sid string) error
	// RefreshNotifiable sets the user's is_notifiable to whether it has a
	// binding.
	RefreshNotifiable(ctx context.Context, userSid string) error
	// SetOnline sets the user's is_online; ErrNotFound when there is no
	// such user.
	SetOnline(ctx context.Context, userSid string, online bool) error
	// RenewNode sets a node's lease: it counts as running until until.
	RenewNode(ctx context.Context, node string, until time.Time) error
	// AddConnection counts one more client connection of a user on a
	// node; ErrDangling when the user is gone.
	AddConnection(ctx context.Context, node, userSid, serviceSid string) error
	// RemoveConnection counts one fewer (none left: the row goes).
	RemoveConnection(ctx context.Context, node, userSid string) error
	// UserConnected reports whether a node whose lease runs past now
	// holds a connection of the user.
	UserConnected(ctx context.Context, userSid string, now time.Time) (bool, error)
	// ReapNodes deletes the nodes whose lease ended before now, with
	// their connections, and returns the users those were of.
	ReapNodes(ctx context.Context, now time.Time) ([]UserRef, error)
}
