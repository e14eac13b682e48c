-- Every line this prints is a violation; the last line counts who ran the steps.
SELECT 'unfinished task ' || task_uuid || ' (' || state || ')' FROM tasker_tasks WHERE state <> 'complete';
SELECT 'task ' || task_uuid || ' finalized ' || count(*) || ' times'
FROM tasker_task_transitions WHERE to_state = 'complete' GROUP BY task_uuid HAVING count(*) <> 1;
SELECT 'step ' || step_uuid || ' completed ' || count(*) || ' times'
FROM tasker_workflow_step_transitions WHERE to_state = 'complete' GROUP BY step_uuid HAVING count(*) <> 1;
SELECT 'step ' || s.step_uuid || ': ' || s.attempts || ' attempts but ' || count(t.*) || ' claims'
FROM tasker_workflow_steps s
LEFT JOIN tasker_workflow_step_transitions t ON t.step_uuid = s.step_uuid AND t.to_state = 'in_progress'
GROUP BY s.step_uuid, s.attempts HAVING count(t.*) <> s.attempts;
SELECT 'task ' || task_uuid || ': audit trail ordinals ' || min(ordinal) || '..' || max(ordinal) || ' in ' || count(*) || ' rows'
FROM (SELECT task_uuid, ordinal FROM tasker_task_transitions
      UNION ALL SELECT task_uuid, ordinal FROM tasker_workflow_step_transitions) x
GROUP BY task_uuid HAVING min(ordinal) <> 1 OR max(ordinal) <> count(*) OR count(DISTINCT ordinal) <> count(*);
SELECT 'ran: ' || string_agg(who || ' ' || n, ', ' ORDER BY who)
FROM (SELECT result::jsonb ->> 'by' AS who, count(*) AS n FROM tasker_workflow_steps GROUP BY 1) r;
