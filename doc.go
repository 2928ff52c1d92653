// Package parley holds the domain of a self-hosted server that speaks
// Twilio's Conversations REST API: the resources (users, services, roles,
// configuration, API keys, webhook deliveries), the SID type, the one error
// type, paging, and the store interfaces every storage backend implements.
//
// It imports neither net/http nor database/sql: the wire format lives in
// package api, the rules in package core, and storage in the backend
// packages (sqlite, postgres). Keeping the domain free of both means a rule
// is written once and a backend cannot grow rules of its own.
package parley
