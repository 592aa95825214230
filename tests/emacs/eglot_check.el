;;; eglot_check.el --- drives usage-ls from Emacs's own LSP client (eglot), in batch  -*- lexical-binding: t -*-
;; Run by test_emacs_eglot.py: emacs --batch --no-init-file -l eglot_check.el
;; USAGE_LS: the server command; USAGE_LS_FILE: the file to open; USAGE_LS_OUT: where the
;; results go, as JSON.  Everything goes through eglot's own functions and its real connection.
(require 'eglot)
(require 'json)
(setq eglot-sync-connect t eglot-connect-timeout 60 eglot-autoshutdown t)
(add-to-list 'eglot-server-programs
             `(text-mode . (,(getenv "USAGE_LS") "serve" "--stdio")))
(defvar usage-ls-results nil)
(defun usage-ls-note (key value) (push (cons key value) usage-ls-results))
(defun usage-ls-wait (pred seconds)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall pred)))
(defun usage-ls-messages ()
  (with-current-buffer "*Messages*" (buffer-substring-no-properties (point-min) (point-max))))

(find-file (getenv "USAGE_LS_FILE"))
(text-mode)
(apply #'eglot (eglot--guess-contact))
(let ((server (eglot-current-server)))
  (usage-ls-note "connected" (and server t))
  (usage-ls-note "commands" (plist-get (plist-get (eglot--capabilities server) :executeCommandProvider) :commands))
  ;; usage, as an editor macro or script would record it
  (eglot-execute-command
   server "usage-ls.record"
   (vector '(:records [(:model "claude-sonnet-4-5" :inputTokens 12000 :outputTokens 3000)])))
  ;; the hover on a model name, as eldoc asks for it
  (goto-char (point-min)) (search-forward "claude-son")
  (let ((contents (plist-get (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams))
                             :contents)))
    (usage-ls-note "hover" (plist-get contents :value))
    (usage-ls-note "hoverKind" (plist-get contents :kind)))
  ;; code actions where the cursor is, and on an ordinary word
  (let ((actions (lambda ()
                   (jsonrpc-request server :textDocument/codeAction
                                    (list :textDocument (eglot--TextDocumentIdentifier)
                                          :range (list :start (eglot--pos-to-lsp-position)
                                                       :end (eglot--pos-to-lsp-position))
                                          :context '(:diagnostics []))))))
    (usage-ls-note "actions" (mapcar (lambda (a) (plist-get a :title)) (funcall actions)))
    (goto-char (point-min))
    (usage-ls-note "actionsElsewhere" (mapcar (lambda (a) (plist-get a :title)) (funcall actions))))
  ;; the commands, as M-x eglot-execute-command runs them: the answers are messages
  (eglot-execute-command server "usage-ls.showToday" nil)
  (eglot-execute-command server "usage-ls.openDashboard" nil)
  (usage-ls-wait (lambda () (string-match-p "Usage Dashboard: http" (usage-ls-messages))) 30)
  (usage-ls-note "messages" (usage-ls-messages))
  (eglot-shutdown server))
(with-temp-file (getenv "USAGE_LS_OUT")
  (insert (json-encode usage-ls-results)))
