#!/usr/bin/env node
// SMSC simulator for the Tidings SMPP tests, built on node-smpp (an implementation independent
// of ours, so a codec mistake on our side cannot be "agreed with" by the peer).
//
// Usage: node sim.js '{"port": 0, "reply_delay_ms": 20}'    (or SIM_CONFIG='{...}' node sim.js)
// Every event is one JSON line on stdout; the first is {"event":"ready","port":N}.
// Options (all optional):
//   port               TCP port on 127.0.0.1; 0 = any free port (reported in the ready line)
//   system_id/password credentials accepted by bind_transceiver (default "tidings"/"secret");
//                      anything else is answered with ESME_RBINDFAIL and the socket closed
//   reply_delay_ms     delay before each submit_sm_resp
//   throttle_every     answer every Nth submit_sm (counted over the whole run) ESME_RTHROTTLED
//   drop_after         destroy the connection when the Nth submit_sm arrives, without answering
//                      it nor anything still delayed (once per run)
//   receipt_first      send the delivery receipt before the submit_sm_resp
//   receipt_stat       stat of the receipts (default "DELIVRD")
//   receipt_err        err of the receipts (default 0)
//   receipt_ids        "hex" (default, same as submit_sm_resp) or "dec": form of the id in the
//                      receipt text and receipted_message_id
//   receipt_tlvs       false: send the receipt text only, without TLVs
//   reject_dest        list of destination_addr answered with ESME_RINVDSTADR
//   enquire_link_ms    the SMSC itself sends enquire_link this often
//   id_start           first message id (default 1); ids are counted over the whole run
//   unbind_after       the SMSC sends unbind after answering the Nth submit_sm (once per run)
//   ignore_enquire_link  never answer the client's enquire_link (a peer that went silent)
//   send_data_sm       right after a bind, send a data_sm carrying a mobile-originated text
//   send_unknown       right after a bind, send a query_sm (a PDU an ESME does not handle)
//   send_mo            right after a bind, send this text as a mobile-originated deliver_sm
//   quiet              no line per submit_sm / deliver_sm_resp / enquire_link: a "count" line
//                      ({"event":"count","submits":N,"deliver_sm_resp":M,"duplicates":D})
//                      every 250 ms while they change, and one on exit (benchmarks: reading a
//                      line per PDU would cost the measured process CPU); duplicates counts
//                      submit_sm whose destination_addr was seen before
//   commands           read JSON commands from stdin, one a line:
//                      {"kill": PID, "after_deliver_resps": N} sends SIGKILL to PID right as
//                      the Nth deliver_sm_resp from now arrives (in the same turn, before any
//                      other PDU is read), then prints {"event":"killed","pid":P,"at":M};
//                      with "forget": true the answer that triggered the kill is dropped
//                      as if it never arrived (the MO it answers stays unanswered)
//                      {"mo": {source_addr, destination_addr, hex, data_coding, esm_class,
//                      sar: [ref, total, seq], data_sm: bool}} sends one mobile-originated
//                      message (short_message = the octets of `hex`; data_sm: in
//                      message_payload) on the latest bound session. An MO stays pending
//                      until answered ESME_ROK and is sent again on every new bind meanwhile,
//                      as an SMSC does; each answer prints {"event":"mo_resp","key":K,
//                      "status":S,"forgotten":F}, each send {"event":"mo_sent","key":K}
// Receipts, like MOs, are kept until answered ESME_ROK: those a session still owed when it
// closed (a killed or disconnected ESME) are sent again on the next bound session, as an
// SMSC holds a system_id's receipts until one of its binds acknowledges them; each such
// resend prints {"event":"receipt_resent","id":ID}.
'use strict';

const smpp = require('smpp');

const config = JSON.parse(process.argv[2] || process.env.SIM_CONFIG || '{}');
const opt = {
  port: 0,
  system_id: 'tidings',
  password: 'secret',
  reply_delay_ms: 0,
  throttle_every: 0,
  drop_after: 0,
  receipt_first: false,
  receipt_stat: 'DELIVRD',
  receipt_err: 0,
  receipt_ids: 'hex',
  receipt_tlvs: true,
  reject_dest: [],
  enquire_link_ms: 0,
  id_start: 1,
  unbind_after: 0,
  ignore_enquire_link: false,
  send_data_sm: false,
  send_mo: null,
  quiet: false,
  commands: false,
  ...config,
};

const MESSAGE_STATE = {
  ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8,
};

// node-smpp decodes short_message and validity_period into objects; the tests want the exact
// octets and strings we sent, so keep a copy of the raw value before its decode filter runs.
function keepRaw(command, field, rawName) {
  const filter = smpp.commands[command].params[field].filter;
  const decode = filter.decode;
  filter.decode = function (value, skipUdh) {
    this[rawName] = value;
    return decode.call(this, value, skipUdh);
  };
}
// The message filter object is shared by every command, so wrap it once only.
keepRaw('submit_sm', 'short_message', 'raw_short_message');
keepRaw('submit_sm', 'validity_period', 'raw_validity_period');

let submits = 0;
let nextId = opt.id_start;
let dropped = false;
let unbound = false;
let sessions = 0;

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function submitRecord(pdu, state) {
  const systemId = state.systemId;
  const sm = pdu.short_message || {};
  const text = sm.message;
  return {
    event: 'submit_sm',
    system_id: systemId,
    session: state.session,
    sequence: pdu.sequence_number,
    service_type: pdu.service_type,
    source_addr: pdu.source_addr,
    source_addr_ton: pdu.source_addr_ton,
    source_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.destination_addr,
    dest_addr_ton: pdu.dest_addr_ton,
    dest_addr_npi: pdu.dest_addr_npi,
    esm_class: pdu.esm_class,
    protocol_id: pdu.protocol_id,
    registered_delivery: pdu.registered_delivery,
    validity_period: typeof pdu.raw_validity_period === 'string' ? pdu.raw_validity_period : '',
    data_coding: pdu.data_coding,
    short_message_hex: Buffer.from(pdu.raw_short_message || []).toString('hex'),
    // node-smpp's own reading of the payload: UDH split off and text decoded per data_coding.
    udh: (sm.udh || []).map((u) => Buffer.from(u).toString('hex')),
    text: typeof text === 'string' ? text : null,
    sar_msg_ref_num: pdu.sar_msg_ref_num,
    sar_total_segments: pdu.sar_total_segments,
    sar_segment_seqnum: pdu.sar_segment_seqnum,
  };
}

function receiptFor(pdu, hexId) {
  const id = opt.receipt_ids === 'dec' ? parseInt(hexId, 16).toString(10) : hexId;
  const err = String(opt.receipt_err).padStart(3, '0');
  const body = {
    source_addr: pdu.destination_addr,
    destination_addr: pdu.source_addr,
    esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
    short_message: `id:${id} sub:001 dlvrd:001 submit date:2601151200 done date:2601151201 ` +
      `stat:${opt.receipt_stat} err:${err} text:`,
  };
  if (opt.receipt_tlvs) {
    body.receipted_message_id = id;
    body.message_state = MESSAGE_STATE[opt.receipt_stat] || 7;
  }
  return body;
}

function answerSubmit(session, pdu) {
  if (opt.reject_dest.includes(pdu.destination_addr)) {
    return { command_status: smpp.ESME_RINVDSTADR };
  }
  if (opt.throttle_every && submits % opt.throttle_every === 0) {
    return { command_status: smpp.ESME_RTHROTTLED };
  }
  const id = (nextId++).toString(16);
  const wantsReceipt = (pdu.registered_delivery & 1) === 1;
  const receipt = wantsReceipt ? receiptFor(pdu, id) : null;
  return { message_id: id, receipt };
}

let deliverResps = 0;
let counted = '';
const destinations = new Set();
let duplicates = 0;
let killAt = null; // { pid, at, forget }: SIGKILL when deliverResps reaches `at`
let forgetting = false; // the answer that triggered a kill with `forget` is dropped
const pendingMo = new Map(); // key → command, until answered ESME_ROK
let nextMoKey = 1;
let latestSession = null;
const bound = new Set(); // sessions bound and not yet closed
const orphanReceipts = []; // receipts a closed session left unanswered, oldest first

function sendMo(session, key, mo) {
  const body = {
    source_addr: mo.source_addr || '79161234567',
    destination_addr: mo.destination_addr || 'Shop',
    esm_class: mo.esm_class || 0,
    data_coding: mo.data_coding || 0,
  };
  const octets = Buffer.from(mo.hex || '', 'hex');
  if (mo.sar) {
    body.sar_msg_ref_num = mo.sar[0];
    body.sar_total_segments = mo.sar[1];
    body.sar_segment_seqnum = mo.sar[2];
  }
  const answered = (resp) => {
    const forgotten = forgetting;
    forgetting = false;
    if (resp.command_status === 0 && !forgotten) pendingMo.delete(key);
    emit({ event: 'mo_resp', key, status: resp.command_status, forgotten });
  };
  if (mo.data_sm) {
    body.message_payload = octets;
    session.data_sm(body, answered);
  } else {
    body.short_message = octets;
    session.deliver_sm(body, answered);
  }
  emit({ event: 'mo_sent', key });
}

function sendReceipt(session, state, body) {
  const key = state.nextReceipt++;
  state.receipts.set(key, body);
  session.deliver_sm(body, (resp) => {
    const forgotten = forgetting;
    forgetting = false;
    if (resp.command_status === 0 && !forgotten) state.receipts.delete(key);
  });
}

function resendOrphans() {
  const next = [...bound].find((s) => s.socket.writable);
  if (next === undefined) return;
  const state = next.tidingsState;
  while (orphanReceipts.length > 0) {
    const body = orphanReceipts.shift();
    emit({ event: 'receipt_resent', id: body.receipted_message_id || body.short_message });
    sendReceipt(next, state, body);
  }
}

function emitCount() {
  const line = JSON.stringify({
    event: 'count', submits, deliver_sm_resp: deliverResps, duplicates,
  });
  if (line !== counted) {
    counted = line;
    process.stdout.write(line + '\n');
  }
}

if (opt.quiet) setInterval(emitCount, 250).unref();

function onSubmit(session, state, pdu) {
  submits += 1;
  if (destinations.has(pdu.destination_addr)) duplicates += 1;
  else destinations.add(pdu.destination_addr);
  if (!opt.quiet) emit(submitRecord(pdu, state));
  if (opt.drop_after && !dropped && submits === opt.drop_after) {
    dropped = true;
    emit({ event: 'drop', after: submits });
    session.socket.destroy();
    return;
  }
  const answer = answerSubmit(session, pdu);
  const send = () => {
    if (!session.socket.writable) return;
    if (answer.command_status) {
      session.send(pdu.response({ command_status: answer.command_status }));
      return;
    }
    if (answer.receipt && opt.receipt_first) sendReceipt(session, state, answer.receipt);
    session.send(pdu.response({ message_id: answer.message_id }));
    if (answer.receipt && !opt.receipt_first) sendReceipt(session, state, answer.receipt);
    if (opt.unbind_after && !unbound && submits >= opt.unbind_after) {
      unbound = true;
      session.unbind();
    }
  };
  if (opt.reply_delay_ms > 0) setTimeout(send, opt.reply_delay_ms);
  else send();
}

function onBind(session, state, pdu) {
  const ok = pdu.system_id === opt.system_id && pdu.password === opt.password;
  emit({
    event: 'bind', session: state.session, system_id: pdu.system_id, ok,
    interface_version: pdu.interface_version,
  });
  if (!ok) {
    session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
    session.close();
    return;
  }
  state.systemId = pdu.system_id;
  session.send(pdu.response({ system_id: 'tidings-sim' }));
  if (opt.send_data_sm) {
    session.data_sm({
      source_addr: '79161234567', destination_addr: 'Shop', message_payload: Buffer.from('Hi'),
    });
  }
  if (opt.send_unknown) {
    session.query_sm({ message_id: '1', source_addr: 'Shop' });
  }
  latestSession = session;
  bound.add(session);
  resendOrphans();
  for (const [key, mo] of pendingMo) sendMo(session, key, mo);
  if (opt.send_mo !== null) {
    session.deliver_sm({
      source_addr: '79161234567', destination_addr: 'Shop', short_message: opt.send_mo,
    });
  }
  if (opt.enquire_link_ms > 0) {
    state.timer = setInterval(() => session.enquire_link({}), opt.enquire_link_ms);
  }
}

function onSession(session) {
  session.socket.setNoDelay(true);
  const state = {
    systemId: null, timer: null, session: ++sessions, receipts: new Map(), nextReceipt: 1,
  };
  session.tidingsState = state;
  session.on('bind_transceiver', (pdu) => onBind(session, state, pdu));
  session.on('submit_sm', (pdu) => onSubmit(session, state, pdu));
  session.on('enquire_link', (pdu) => {
    if (!opt.quiet) emit({ event: 'enquire_link', sequence: pdu.sequence_number });
    if (!opt.ignore_enquire_link) session.send(pdu.response());
  });
  session.on('unbind_resp', () => emit({ event: 'unbind_resp' }));
  session.on('generic_nack', (pdu) => {
    emit({ event: 'generic_nack', status: pdu.command_status, sequence: pdu.sequence_number });
  });
  session.on('enquire_link_resp', (pdu) => {
    emit({ event: 'enquire_link_resp', sequence: pdu.sequence_number });
  });
  session.on('deliver_sm_resp', (pdu) => {
    deliverResps += 1;
    if (killAt !== null && deliverResps >= killAt.at) {
      const { pid } = killAt;
      forgetting = Boolean(killAt.forget);
      killAt = null;
      try { process.kill(pid, 'SIGKILL'); } catch (e) { /* already gone */ }
      emit({ event: 'killed', pid, at: deliverResps });
    }
    if (opt.quiet) return;
    emit({ event: 'deliver_sm_resp', status: pdu.command_status, sequence: pdu.sequence_number });
  });
  session.on('data_sm_resp', (pdu) => {
    if (!opt.quiet) emit({ event: 'data_sm_resp', status: pdu.command_status });
  });
  session.on('unbind', (pdu) => {
    emit({ event: 'unbind' });
    session.send(pdu.response());
    session.close();
  });
  session.on('close', () => {
    if (state.timer) clearInterval(state.timer);
    if (latestSession === session) latestSession = null;
    bound.delete(session);
    orphanReceipts.push(...state.receipts.values());
    state.receipts.clear();
    emit({ event: 'close' });
    resendOrphans();
  });
  session.on('error', (e) => emit({ event: 'error', message: String(e && e.message) }));
}

if (opt.commands) {
  require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
    const command = JSON.parse(line);
    if (command.kill) {
      killAt = {
        pid: command.kill, at: deliverResps + command.after_deliver_resps, forget: command.forget,
      };
    }
    if (command.mo) {
      const key = nextMoKey++;
      pendingMo.set(key, command.mo);
      if (latestSession !== null && latestSession.socket.writable) {
        sendMo(latestSession, key, command.mo);
      }
    }
  });
}

const server = smpp.createServer({}, onSession);
server.listen(opt.port, '127.0.0.1', () => {
  emit({ event: 'ready', port: server.address().port });
});

// The test runner stops us with SIGTERM; exit at once so no port or child is left behind.
function exit() {
  if (opt.quiet) emitCount();
  process.exit(0);
}
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
