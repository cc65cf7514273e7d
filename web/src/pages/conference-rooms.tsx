// Conference rooms: meet-me numbers with an optional PIN. The PIN is written
// here and never shown again (the API says only whether one is set). Rules
// and defaults are the room model's (src/model/conference-room.ts).
import { useState } from 'preact/hooks';
import { ROOM_MAX_PARTICIPANTS_DEFAULT, ROOM_MAX_PARTICIPANTS_RANGE } from '../../../src/model/conference-room.ts';
import { asApiError, type ApiError } from '../api.ts';
import { ResourceHead, useResourcePage } from '../resource-page.tsx';
import { href } from '../router.ts';
import type { ConferenceRoom } from '../types.ts';
import { CheckField, ErrorSummary, Fieldset, FormEnd, Loading, RequiredNote, TextField, useApp } from '../ui.tsx';

const roomPath = (n: string) => `/api/conference-rooms/${encodeURIComponent(n)}`;

interface Form { number: string; name: string; pin: string; clearPin: boolean; maxParticipants: string; announceJoin: boolean }

function RoomEditor({ room, onDone }: { room: ConferenceRoom | null; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState<Form>({
    number: room?.number ?? '', name: room?.name ?? '', pin: '', clearPin: false,
    maxParticipants: String(room?.maxParticipants ?? ROOM_MAX_PARTICIPANTS_DEFAULT), announceJoin: room?.announceJoin ?? true,
  });
  const [err, setErr] = useState<ApiError | null>(null);
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const ro = !canWrite;
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const body: Record<string, unknown> = {
      number: f.number.trim(), name: f.name.trim(), maxParticipants: Number(f.maxParticipants || ROOM_MAX_PARTICIPANTS_DEFAULT), announceJoin: f.announceJoin,
    };
    // A blank PIN keeps the one set (or none, for a new room); the box clears it.
    if (f.pin.trim() !== '') body.pin = f.pin.trim();
    else if (f.clearPin) body.pin = null;
    try {
      if (room) await api.patch(roomPath(room.number), body);
      else await api.post('/api/conference-rooms', body);
      onDone(`Conference room ${body.number as string} saved.`);
    } catch (e2) {
      setErr(asApiError(e2));
    }
  };
  const [min, max] = ROOM_MAX_PARTICIPANTS_RANGE;
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="cr-form-h">
      <h2 id="cr-form-h">{room ? `Conference room ${room.number}` : 'Add conference room'}</h2>
      <ErrorSummary err={err} idOf={(p) => `cr-${p.split('.')[0]}`} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Room">
        <TextField id="cr-number" label="Number" value={f.number} onInput={set('number')} required disabled={ro} error={err?.field('number')}
          hint="Dialled to join; no user extension, hunt group or IVR menu." />
        <TextField id="cr-name" label="Name" value={f.name} onInput={set('name')} disabled={ro} error={err?.field('name')} />
        <TextField id="cr-pin" label={room?.hasPin ? 'New PIN' : 'PIN'} type="password" autoComplete="new-password" value={f.pin} onInput={set('pin')}
          disabled={ro} error={err?.field('pin')} hint={room?.hasPin ? 'A PIN is set; blank keeps it.' : '1-16 digits callers type to join; blank: none.'} />
        {room?.hasPin && <CheckField id="cr-clearPin" label="Remove the PIN" checked={f.clearPin} onChange={set('clearPin')} disabled={ro} />}
        <TextField id="cr-maxParticipants" label="Participants at most" type="number" value={f.maxParticipants} onInput={set('maxParticipants')}
          disabled={ro} error={err?.field('maxParticipants')} hint={`${min}-${max}.`} />
        <CheckField id="cr-announceJoin" label="Tone when someone joins or leaves" checked={f.announceJoin} onChange={set('announceJoin')} disabled={ro} />
      </Fieldset>
      <FormEnd err={err} save={room ? 'Save room' : 'Add room'} cancelHref={href('conference-rooms')} />
    </form>
  );
}

export function ConferenceRoomsPage({ edit }: { edit: string | undefined }) {
  const { api, canWrite } = useApp();
  const page = useResourcePage<ConferenceRoom>('/api/conference-rooms', 'conference-rooms');
  const { items: rooms, error, message, done } = page;
  const remove = (r: ConferenceRoom) => {
    if (!window.confirm(`Remove conference room ${r.number}?`)) return;
    void page.act(() => api.delete(roomPath(r.number)), `Conference room ${r.number} removed.`);
  };
  const editing = edit === 'new' ? null : rooms?.find((r) => r.number === edit);
  return (
    <>
      <ResourceHead title="Conference rooms" section="conference-rooms" noun="room" edit={edit} loaded={rooms !== null}
        found={editing !== undefined} message={message} error={error}>
        <RoomEditor key={edit} room={editing ?? null} onDone={done} />
      </ResourceHead>
      <section aria-labelledby="rooms-h">
        <h2 id="rooms-h">Rooms</h2>
        {rooms === null ? <Loading /> : rooms.length === 0 ? <p class="muted">No conference rooms.</p> : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="rooms-h">
              <thead>
                <tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col">PIN</th><th scope="col">At most</th>
                  <th scope="col">Join tone</th>{canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {rooms.map((r) => (
                  <tr key={r.number} data-room={r.number}>
                    <td data-label="Number"><a href={href('conference-rooms', r.number)} aria-label={`Room ${r.number}`}>{r.number}</a></td>
                    <td data-label="Name">{r.name || <span class="muted">—</span>}</td>
                    <td data-label="PIN">{r.hasPin ? 'set' : <span class="muted">none</span>}</td>
                    <td data-label="At most">{r.maxParticipants}</td>
                    <td data-label="Join tone">{r.announceJoin ? 'on' : 'off'}</td>
                    {canWrite && (
                      <td><button type="button" class="danger small" onClick={() => remove(r)} aria-label={`Remove conference room ${r.number}`}>Remove</button></td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
