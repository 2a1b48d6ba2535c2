-- Drives `refit server` from Neovim's built-in LSP client (Neovim 0.7+).
-- Environment: REFIT_BIN, REFIT_FILES (space-separated paths), REFIT_OUT
-- (where the results go, one line per file:
-- `path<TAB>code:line:col,...<TAB>fix-all-applied`).
local bin = os.getenv('REFIT_BIN')
local out_path = os.getenv('REFIT_OUT')
local files = vim.split(os.getenv('REFIT_FILES') or '', ' ', { trimempty = true })
local out = assert(io.open(out_path, 'w'))

local function fail(msg)
  out:write('FAIL\t' .. msg .. '\n')
  out:close()
  vim.cmd('qa!')
end

local client_id = vim.lsp.start_client({
  name = 'refit',
  cmd = { bin, 'server' },
  root_dir = vim.fn.fnamemodify(files[1], ':h'),
})
if not client_id then
  fail('could not start refit server')
end

for _, file in ipairs(files) do
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(bufnr, client_id)
  local ok = vim.wait(10000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 20)
  if not ok then
    fail('no diagnostics for ' .. file)
  end
  local parts = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or '?'
    table.insert(parts, string.format('%s:%d:%d', code, d.lnum, d.col))
  end
  table.sort(parts)
  local client = vim.lsp.get_client_by_id(client_id)
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 0 } },
    context = { diagnostics = {}, only = { 'source.fixAll.refit' } },
  }
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 10000)
  local applied = 0
  for _, response in pairs(responses or {}) do
    for _, action in ipairs(response.result or {}) do
      if action.edit then
        vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding or 'utf-16')
        applied = applied + 1
      end
    end
  end
  vim.cmd('write')
  out:write(file .. '\t' .. table.concat(parts, ',') .. '\t' .. applied .. '\n')
end
out:write('DONE\n')
out:close()
vim.lsp.stop_client(client_id)
vim.cmd('qa!')
