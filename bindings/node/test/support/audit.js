'use strict';
// The audit trail of a finished task, checked: every entity's transitions (the task's, each step's) form one
// unbroken chain (each starts where the previous ended), each step's claims match its attempts, and the task was
// finalized exactly once.
const FINAL = new Set(['complete', 'error', 'cancelled', 'resolved_manually']);

/** What is wrong with `task.transitions` (a list of sentences; empty when the trail is sound). */
function auditProblems(task) {
  const problems = [];
  const chains = new Map(); // step name (null: the task) -> its transitions in order
  for (const tr of task.transitions) {
    if (!chains.has(tr.stepName)) chains.set(tr.stepName, []);
    chains.get(tr.stepName).push(tr);
  }
  for (const [name, chain] of chains) {
    const who = name === null ? 'the task' : `step ${name}`;
    const first = name === null ? null : 'pending';
    if (chain[0].from !== first) problems.push(`${who} starts from ${chain[0].from}, not ${first}`);
    for (let i = 1; i < chain.length; i += 1) {
      if (chain[i].from !== chain[i - 1].to) {
        problems.push(`${who}: transition ${i} goes from ${chain[i].from} but the one before ended in ${chain[i - 1].to}`);
      }
    }
  }
  const finals = (chains.get(null) ?? []).filter((tr) => FINAL.has(tr.to));
  if (FINAL.has(task.state) && finals.length !== 1) problems.push(`the task was finalized ${finals.length} times`);
  for (const step of task.steps) {
    const claims = (chains.get(step.name) ?? []).filter((tr) => tr.from !== 'in_progress' && tr.to === 'in_progress').length;
    if (claims !== step.attempts) problems.push(`step ${step.name} was claimed ${claims} times for ${step.attempts} attempts`);
  }
  return problems;
}

module.exports = { auditProblems };
