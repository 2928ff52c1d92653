package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

// routes is the whole HTTP surface in one place. Operations are named by
// their spec IDs, which give each its method, path, status and schema;
// resources that live in a Conversation Service are served under both
// /v1/X (the default service) and /v1/Services/{ChatServiceSid}/X (both).
func (s *Server) routes() {
	a := s.app

	item(s, userFields, s.createUser, both("CreateUser")...)
	item(s, userFields, byKey(a.FetchUser), both("FetchUser")...)
	item(s, userFields, s.updateUser, both("UpdateUser")...)
	remove(s, deletingWithWebhooks(a.DeleteUser), both("DeleteUser")...)
	list(s, userFields, listIn(a.ListUsers), both("ListUser")...)

	item(s, conversationFields, s.createConversation, both("CreateConversation")...)
	item(s, conversationFields, byKey(a.FetchConversation), both("FetchConversation")...)
	item(s, conversationFields, s.updateConversation, both("UpdateConversation")...)
	remove(s, deletingWithWebhooks(a.DeleteConversation), both("DeleteConversation")...)
	list(s, conversationFields, s.listConversations, both("ListConversation")...)

	item(s, participantFields, s.createParticipant, both("CreateConversationParticipant")...)
	item(s, participantFields, s.fetchParticipant, both("FetchConversationParticipant")...)
	item(s, participantFields, s.updateParticipant, both("UpdateConversationParticipant")...)
	remove(s, s.deleteParticipant, both("DeleteConversationParticipant")...)
	list(s, participantFields, s.listParticipants, both("ListConversationParticipant")...)

	item(s, messageFields, s.createMessage, both("CreateConversationMessage")...)
	item(s, messageFields, s.fetchMessage, both("FetchConversationMessage")...)
	item(s, messageFields, s.updateMessage, both("UpdateConversationMessage")...)
	remove(s, s.deleteMessage, both("DeleteConversationMessage")...)
	list(s, messageFields, s.listMessages, both("ListConversationMessage")...)

	item(s, receiptFields, s.fetchReceipt, both("FetchConversationMessageReceipt")...)
	list(s, receiptFields, s.listReceipts, both("ListConversationMessageReceipt")...)

	item(s, conversationWebhookFields, s.createConversationWebhook, both("CreateConversationScopedWebhook")...)
	item(s, conversationWebhookFields, s.fetchConversationWebhook, both("FetchConversationScopedWebhook")...)
	item(s, conversationWebhookFields, s.updateConversationWebhook, both("UpdateConversationScopedWebhook")...)
	remove(s, s.deleteConversationWebhook, both("DeleteConversationScopedWebhook")...)
	list(s, conversationWebhookFields, s.listConversationWebhooks, both("ListConversationScopedWebhook")...)

	item(s, conversationFields, s.createConversationWithParticipants, both("CreateConversationWithParticipants")...)
	item(s, membershipFields, s.fetchUserConversation, both("FetchUserConversation")...)
	item(s, membershipFields, s.updateUserConversation, both("UpdateUserConversation")...)
	remove(s, s.deleteUserConversation, both("DeleteUserConversation")...)
	list(s, membershipFields, s.listUserConversations, both("ListUserConversation")...)
	list(s, membershipFields, s.listParticipantConversations, both("ListParticipantConversation")...)

	item(s, roleFields, s.createRole, both("CreateRole")...)
	item(s, roleFields, byKey(a.FetchRole), both("FetchRole")...)
	item(s, roleFields, s.updateRole, both("UpdateRole")...)
	remove(s, deleting(a.DeleteRole), both("DeleteRole")...)
	list(s, roleFields, listIn(a.ListRoles), both("ListRole")...)

	item(s, serviceFields, s.createService, "CreateService")
	item(s, serviceFields, bySid(a.FetchService), "FetchService")
	remove(s, bySidDeleting(a.DeleteService), "DeleteService")
	list(s, serviceFields, listAll(a.ListServices), "ListService")

	item(s, credentialFields, s.createCredential, "CreateCredential")
	item(s, credentialFields, bySid(a.FetchCredential), "FetchCredential")
	item(s, credentialFields, s.updateCredential, "UpdateCredential")
	remove(s, bySidDeleting(a.DeleteCredential), "DeleteCredential")
	list(s, credentialFields, listAll(a.ListCredentials), "ListCredential")

	item(s, addressConfigFields, s.createAddressConfig, "CreateConfigurationAddress")
	item(s, addressConfigFields, bySid(a.FetchAddressConfig), "FetchConfigurationAddress")
	item(s, addressConfigFields, s.updateAddressConfig, "UpdateConfigurationAddress")
	remove(s, bySidDeleting(a.DeleteAddressConfig), "DeleteConfigurationAddress")
	list(s, addressConfigFields, s.listAddressConfigs, "ListConfigurationAddress")

	item(s, bindingFields, s.fetchBinding, "FetchServiceBinding")
	remove(s, deleting(func(ctx context.Context, svc, sid string) error {
		return a.DeleteBinding(ctx, svc, sid, core.WriteOptions{})
	}), "DeleteServiceBinding")
	list(s, bindingFields, s.listBindings, "ListServiceBinding")
	item(s, notificationFields, byService(a.FetchServiceConfig), "FetchServiceNotification")
	item(s, notificationFields, s.updateNotifications, "UpdateServiceNotification")

	item(s, serviceConfigFields, byService(a.FetchServiceConfig), "FetchServiceConfiguration", "FetchServiceWebhookConfiguration")
	item(s, serviceConfigFields, s.updateServiceConfig, "UpdateServiceConfiguration")
	item(s, serviceConfigFields, s.updateServiceWebhooks, "UpdateServiceWebhookConfiguration")
	item(s, accountConfigFields, plain(a.FetchAccountConfig), "FetchConfiguration", "FetchConfigurationWebhook")
	item(s, accountConfigFields, s.updateAccountConfig, "UpdateConfiguration")
	item(s, accountConfigFields, s.updateAccountWebhooks, "UpdateConfigurationWebhook")

	// parley's own extensions live under /parley, out of Twilio's way.
	list(s, deliveryFields, s.listDeliveries, "ListWebhookDelivery")
	item(s, deliveryFields, bySid(a.FetchDelivery), "FetchWebhookDelivery")
	item(s, receiptFields, s.injectReceipt, "CreateReceipt", "CreateServiceReceipt")
	item(s, bindingFields, s.registerBinding, "CreateServiceBinding")
	item(s, inboundFields, s.receiveInbound, "CreateInbound")

	// The Media Content Service, on Twilio a host of its own.
	item(s, mediaFields, s.fetchMedia, "FetchMedia")
	streamedItem(s, mediaFields, s.uploadMedia, "CreateMedia")
	s.mountRaw(s.operation("FetchMediaContent"), s.mediaContent)
	s.mediaEncoder = encoderFor(s.operation("FetchMedia"), mediaFields)
	s.mountRaw(s.operation("FetchMediaSet"), s.mediaSet)

	if s.emulator {
		s.emulatorRoutes()
	}

	s.methodsNotAllowed()
	// Everything else is Twilio's 404, with the JSON body.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, parley.NotFound())
	})
}

// methodsNotAllowed answers every other method on a mounted path with
// Twilio's 405 and an Allow header (ServeMux's own 405 would be plain
// text).
func (s *Server) methodsNotAllowed() {
	for _, path := range s.paths {
		var allow []string
		for _, m := range []string{"GET", "POST", "DELETE"} {
			for _, got := range s.allowed[path] {
				if got == m {
					allow = append(allow, m)
				}
			}
		}
		list := strings.Join(allow, ", ")
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", list)
			s.writeError(w, r, parley.Errorf(parley.KindMethodNotAllowed, 20004, "Method not allowed"))
		})
	}
}
