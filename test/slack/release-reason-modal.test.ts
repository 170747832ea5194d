import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InputBlock } from '@slack/web-api';
import {
  RELEASE_REASON_CALLBACK_ID,
  buildReleaseReasonModal,
  readReleaseModalSubmission,
  releaseModalErrors,
} from '../../src/slack/release-reason-modal';

const input = {
  invoiceId: 'in_123',
  customerLabel: 'Acme (cus_1)',
  atStake: '1,500.00 USD at stake',
  needsSecondApproval: false,
};

test('the modal names the invoice and offers the four reasons and an optional note', () => {
  const view = buildReleaseReasonModal(input);
  assert.equal(view.callback_id, RELEASE_REASON_CALLBACK_ID);
  assert.equal(view.private_metadata, 'in_123');
  assert.equal(view.submit?.text, 'Release');
  const reason = view.blocks.find((b) => b.block_id === 'reason') as InputBlock | undefined;
  assert.ok(reason && reason.type === 'input' && reason.element.type === 'static_select');
  assert.deepEqual(
    reason.element.options?.map((o) => o.value),
    ['ledger_late', 'stripe_correct', 'contract_exception', 'other'],
  );
  const note = view.blocks.find((b) => b.block_id === 'note') as InputBlock | undefined;
  assert.ok(note && note.type === 'input' && note.optional === true && note.element.type === 'plain_text_input');
});

test('above the approval limit the modal says the release is a first approval', () => {
  const view = buildReleaseReasonModal({ ...input, needsSecondApproval: true });
  assert.equal(view.submit?.text, 'Approve release');
  assert.match(JSON.stringify(view.blocks), /a second reviewer must approve/);
});

test('a submission reads back the invoice, the reason and the note; unknown values read as null', () => {
  const view = {
    private_metadata: 'in_123',
    state: {
      values: {
        reason: { reason: { type: 'static_select', selected_option: { value: 'other' } } },
        note: { note: { type: 'plain_text_input', value: '  customer called  ' } },
      },
    },
  };
  assert.deepEqual(readReleaseModalSubmission(view), { invoiceId: 'in_123', reason: 'other', note: 'customer called' });
  assert.deepEqual(
    readReleaseModalSubmission({
      private_metadata: 'in_9',
      state: { values: { reason: { reason: { selected_option: { value: 'bribe' } } }, note: { note: { value: '' } } } },
    }),
    { invoiceId: 'in_9', reason: null, note: null },
  );
  assert.deepEqual(readReleaseModalSubmission({}), { invoiceId: '', reason: null, note: null });
});

test('a refused submission shows its message under the input it concerns', () => {
  assert.deepEqual(releaseModalErrors({ code: 'note_required', message: 'needs a note' }), { note: 'needs a note' });
  assert.deepEqual(releaseModalErrors({ code: 'reason_required', message: 'needs a reason' }), {
    reason: 'needs a reason',
  });
});
